import { z } from 'zod';
import { expectedIdForm, isIdOf, type IdKind } from './ids.js';

/**
 * Every code the server sends as `extensions.code` (SPEC §6), with what it means. This is the one
 * list: the schema's ErrorCode enum and the table in docs/api.md are checked against it.
 */
export const ERROR_CODE_DESCRIPTIONS = {
  BAD_USER_INPUT: 'The request is malformed or an argument is invalid (parse and validation errors included); `extensions.path` names the argument.',
  NOT_FOUND: 'The id (or cursor) names nothing in your organization.',
  CONFLICT: 'A unique value is taken (an agent or folder name, a block label of an agent).',
  PENDING_APPROVAL: 'The agent waits for a tool approval; answer it (sendMessage with approvals or toolReturns) first.',
  AGENT_BUSY: 'A send with failIfBusy met a run of the agent that is still queued or running.',
  UNAUTHENTICATED: 'No API key, or an unknown or revoked one.',
  FORBIDDEN: 'The operation is not allowed on this object (e.g. deleting a built-in tool, editing a read-only block).',
  RATE_LIMITED: 'Too many requests or subscriptions for this key or connection; retry later.',
  PAYLOAD_TOO_LARGE: 'The request body or upload is larger than the server accepts (MAX_BODY_BYTES, MAX_UPLOAD_BYTES).',
  QUERY_TOO_COSTLY: 'The operation asks for more than MAX_QUERY_COST (list sizes it asks for, nested); refused before it runs.',
  QUERY_TIMEOUT: 'The query ran longer than QUERY_TIMEOUT_MS; its partial work is discarded.',
  RESPONSE_TOO_LARGE: 'The result is larger than MAX_RESPONSE_BYTES; nothing of it is sent.',
  DATABASE_UNAVAILABLE: 'The database connection was lost (failover, pooler restart); retry. A run that lost it ends failed with this code.',
  SLOW_CONSUMER: "A subscriber read its run's events too slowly and was dropped; resubscribe with `after`.",
  LLM_TIMEOUT: 'The model provider did not answer in time (also a run error code).',
  LLM_RATE_LIMIT: 'The model provider refused for rate limits after retries (also a run error code).',
  LLM_AUTHENTICATION: 'The model provider refused the server’s credentials (also a run error code).',
  LLM_ERROR: 'The model provider failed or answered something unusable (also a run error code).',
  UNAVAILABLE: 'The server cannot take the work now (shutting down, or its background queue is full); retry shortly.',
  INTERNAL: 'A server fault; it is logged with its stack and no detail is sent.',
} as const;

export const ERROR_CODES = Object.keys(ERROR_CODE_DESCRIPTIONS) as Array<keyof typeof ERROR_CODE_DESCRIPTIONS>;

export type ErrorCode = keyof typeof ERROR_CODE_DESCRIPTIONS;

/** An expected failure of a use case. Its message is safe to show to the caller. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (kind: string, id: string) =>
  new AppError('NOT_FOUND', `${kind} ${id} not found`, { id });

export const badInput = (path: string, message: string) =>
  new AppError('BAD_USER_INPUT', `${path}: ${message}`, { path });

export const conflict = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('CONFLICT', message, details);

/** Throws BAD_USER_INPUT naming the expected form unless `value` is an id of `kind`. */
export function assertId(kind: IdKind, value: string, path: string): string {
  if (!isIdOf(kind, value)) throw badInput(path, `malformed id; expected ${expectedIdForm(kind)}`);
  return value;
}

/** Parses use-case input with zod; the first problems become one BAD_USER_INPUT with their paths. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root = 'input'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: [root, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = problems[0]!;
  throw new AppError('BAD_USER_INPUT', `${first.path}: ${first.message}`, { path: first.path, problems });
}

/** A failure the model sees: `message` is the exact text of the failed tool result. */
export class ToolExecutionError extends Error {
  override name = 'ToolExecutionError';
}

const STORED_TEXT_MAX = 1000;

/**
 * Error text that is stored and shown to users (File.errorMessage and the like): its first line
 * only, without file paths or URLs of this server's code, so that it never carries a stack trace
 * or a source path.
 */
export function userErrorText(message: string): string {
  const firstLine = message.split('\n').find((line) => line.trim()) ?? '';
  return firstLine
    .replace(/\bfile:\/\/\S+/g, '<path>')
    .replace(/(?<=^|[\s('"=])(?:[A-Za-z]:)?(?:[\\/][\w.@+-]+){2,}[\\/]?(?::\d+)*/g, '<path>')
    .replace(/\s+at\s+<path>.*$/, '')
    .trim()
    .slice(0, STORED_TEXT_MAX);
}
