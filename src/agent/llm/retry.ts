/**
 * When a rate-limited or overloaded model call is tried again. The provider's Retry-After is
 * honoured up to `retryAfterMaxMs`: a provider asking for a longer wait fails the call at once
 * (holding a run for minutes helps nobody), with a message naming the bound.
 */
export interface RetryPolicy {
  /** Attempts after the first. */
  maxRetries: number;
  /** The longest wait honoured, in milliseconds. */
  retryAfterMaxMs: number;
}

/** Backoff when the provider gives no Retry-After: 1 s, 2 s, 4 s, ... (within the bound). */
const BACKOFF_BASE_MS = 1000;

export function retryDelay(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined): { kind: 'wait'; ms: number } | { kind: 'give-up'; reason: string } {
  if (attempt >= policy.maxRetries) return { kind: 'give-up', reason: `gave up after ${attempt + 1} attempt${attempt ? 's' : ''} (LLM_MAX_RETRIES=${policy.maxRetries})` };
  if (retryAfterMs !== undefined && retryAfterMs > policy.retryAfterMaxMs) {
    return { kind: 'give-up', reason: `the provider asked to retry after ${Math.ceil(retryAfterMs / 1000)} s, longer than LLM_RETRY_AFTER_MAX_MS=${policy.retryAfterMaxMs}` };
  }
  return { kind: 'wait', ms: retryAfterMs ?? Math.min(policy.retryAfterMaxMs, BACKOFF_BASE_MS * 2 ** attempt) };
}
