import { formatDatetime } from './memory.js';
import { SUMMARY_MARKER } from './context-window.js';

/**
 * Compaction planning (letta-domain §7): which in-context messages a summary replaces. The
 * system message always stays; a sliding window evicts the oldest messages up to a turn boundary
 * (the kept part starts with a user message, so every tool call stays with its result); a
 * trailing approval request that is still pending is never evicted. Pure functions: the service
 * in services/compaction.ts loads, summarises and stores.
 */

export type CompactionMode = 'sliding_window' | 'all';
export type CompactionTrigger = 'manual' | 'post_step_context_check' | 'context_window_exceeded';

/** Letta's defaults. */
export const COMPACTION_THRESHOLD = 0.9;
export const SLIDING_WINDOW_PERCENTAGE = 0.3;
export const SUMMARY_CLIP_CHARS = 50_000;

/** The system prompt (with the tool definitions) alone does not fit in the context window. */
export class SystemPromptTooLarge extends Error {
  constructor(
    readonly systemTokens: number,
    readonly contextWindow: number,
  ) {
    super(`The system prompt and tool definitions alone take ${systemTokens} tokens, more than the context window of ${contextWindow}`);
    this.name = 'SystemPromptTooLarge';
  }
}

export interface PlannedMessage {
  id: string;
  role: string;
  tokens: number;
  /** An approval request with tool calls. */
  pendingApproval: boolean;
}

export interface CompactionPlan {
  mode: CompactionMode;
  /** Messages the summary replaces, oldest first. */
  evicted: string[];
  /** Messages kept after the summary, in order. */
  kept: string[];
}

/**
 * Plans a compaction of `messages` (in-context, system message excluded). `fixedTokens` is what
 * stays whatever happens (system prompt, tool definitions). Returns null when nothing can be
 * evicted.
 */
export function planCompaction(messages: PlannedMessage[], fixedTokens: number, contextWindow: number, mode: CompactionMode): CompactionPlan | null {
  // A trailing pending approval (and nothing after it) is protected.
  const last = messages.at(-1);
  const protectFrom = last?.pendingApproval ? messages.length - 1 : messages.length;
  if (protectFrom === 0) return null;
  const split = (cut: number): CompactionPlan => ({ mode, evicted: messages.slice(0, cut).map((m) => m.id), kept: messages.slice(cut).map((m) => m.id) });
  if (mode === 'all') return split(protectFrom);

  const suffixTokens: number[] = new Array<number>(messages.length + 1).fill(0);
  for (let i = messages.length - 1; i >= 0; i--) suffixTokens[i] = suffixTokens[i + 1]! + messages[i]!.tokens;
  const boundaries = messages.map((message, index) => (index > 0 && index <= protectFrom && (message.role === 'user' || index === protectFrom) ? index : -1)).filter((index) => index > 0);
  for (let pct = SLIDING_WINDOW_PERCENTAGE; pct <= 1.0001; pct += 0.1) {
    const target = Math.ceil(pct * protectFrom);
    const cut = boundaries.find((index) => index >= target);
    if (cut === undefined) break;
    if (fixedTokens + suffixTokens[cut]! <= (1 - SLIDING_WINDOW_PERCENTAGE) * contextWindow) return split(cut);
  }
  // Unlike Letta, keep the current turn (from the last user message) when it alone fits under
  // the threshold, rather than summarising a tool result the model is about to read.
  const lastTurn = boundaries.filter((index) => index < protectFrom).at(-1);
  if (lastTurn !== undefined && fixedTokens + suffixTokens[lastTurn]! <= COMPACTION_THRESHOLD * contextWindow) return split(lastTurn);
  return null;
}

/** The summariser's instructions. */
export const SUMMARIZER_PROMPT = [
  'You summarise the earlier part of a conversation between a user and an AI agent, so that the agent can continue it without the original messages.',
  'Keep every fact the user stated about themselves or the world (names, numbers, dates, preferences, decisions), open tasks and promises, and what the agent has already done.',
  'Write plain prose in the third person, at most 300 words. Do not add anything that is not in the transcript.',
].join('\n');

/** The transcript the summariser reads, clipped to its last SUMMARY_CLIP_CHARS characters. */
export function summaryTranscript(lines: Array<{ role: string; text: string }>): string {
  const text = lines
    .filter((line) => line.text.trim())
    .map((line) => `${line.role}: ${line.text}`)
    .join('\n');
  return text.length > SUMMARY_CLIP_CHARS ? `[...]\n${text.slice(-SUMMARY_CLIP_CHARS)}` : text;
}

export interface CompactionStats {
  trigger: CompactionTrigger;
  context_tokens_before: number;
  context_tokens_after: number | null;
  context_window: number;
  messages_count_before: number;
  messages_count_after: number;
}

/** Letta's packed summary message (a system_alert the model reads as a user message). */
export function packSummary(summary: string, hiddenCount: number, now: Date, timezone: string, stats: CompactionStats): string {
  return JSON.stringify({
    type: 'system_alert',
    message: `Note: ${hiddenCount} messages from the beginning of the conversation have been hidden from view due to memory constraints.\n${SUMMARY_MARKER}messages:\n ${summary}`,
    time: formatDatetime(now, timezone),
    compaction_stats: stats,
  });
}
