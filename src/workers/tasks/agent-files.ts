import { AppError, type ErrorCode } from '../../errors.js';
import type { AgentFile } from '../../services/agent-files/format.js';
import { readAgentFile, type Warning } from '../../services/agent-files/validate.js';

/**
 * Reading an agent file (UTF-8 decoding of an upload's bytes, JSON parse, NUL stripping, shape and
 * reference checks) in a worker thread.
 */
export function readAgentFileTask(raw: unknown): { ok: true; file: AgentFile; warnings: Warning[] } | { ok: false; code: ErrorCode; message: string; extensions: Record<string, unknown> } {
  try {
    // An upload comes as its bytes: decoding megabytes of text on the main thread held it up.
    return { ok: true, ...readAgentFile(raw instanceof Uint8Array ? new TextDecoder().decode(raw) : raw) };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, code: error.code, message: error.message, extensions: { ...error.details } };
    throw error;
  }
}
