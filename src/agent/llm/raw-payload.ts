import type { ModelCall } from './adapters.js';
import type { ModelRegistry } from './providers.js';

/**
 * The exact HTTP request body a model call would send, obtained by running the provider SDK's
 * own request code against a fetch that records the request and never sends it. No model is
 * called and nothing leaves the process.
 */
export interface RawRequest {
  url: string;
  body: Record<string, unknown>;
}

class DryRunStop extends Error {}

export async function captureRequest(
  models: ModelRegistry,
  handle: string,
  call: ModelCall,
): Promise<RawRequest> {
  let captured: RawRequest | undefined;
  const recordingFetch: typeof globalThis.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const text = typeof init?.body === 'string' ? init.body : '';
    captured = { url, body: JSON.parse(text || '{}') as Record<string, unknown> };
    throw new DryRunStop('dry run: request recorded, not sent');
  };
  const resolved = models.withFetch(handle, recordingFetch);
  try {
    await resolved.model.doStream({ ...resolved.callOptions(call), abortSignal: AbortSignal.timeout(10_000) });
  } catch (error) {
    if (!captured) throw error;
  }
  if (!captured) throw new Error('the provider SDK made no request');
  return captured;
}
