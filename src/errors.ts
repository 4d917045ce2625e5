import { z } from 'zod';
import { expectedIdForm, isIdOf, type IdKind } from './ids.js';

/** The error codes of SPEC §6, carried to clients as `extensions.code`. */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'PENDING_APPROVAL',
  'AGENT_BUSY',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  /** A subscriber read its run's events too slowly and was dropped; it resubscribes with `after`. */
  'SLOW_CONSUMER',
  'LLM_TIMEOUT',
  'LLM_RATE_LIMIT',
  'LLM_AUTHENTICATION',
  'LLM_ERROR',
  /** The server cannot take the work now (shutting down, or its background queue is full); retry shortly. */
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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
