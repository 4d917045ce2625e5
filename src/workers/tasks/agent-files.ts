import { AppError, type ErrorCode } from '../../errors.js';
import type { AgentFile } from '../../services/agent-files/format.js';
import { readAgentFile, type Warning } from '../../services/agent-files/validate.js';

/** Reading an agent file (JSON parse, NUL stripping, shape and reference checks) in a worker thread. */
export function readAgentFileTask(raw: unknown): { ok: true; file: AgentFile; warnings: Warning[] } | { ok: false; code: ErrorCode; message: string; extensions: Record<string, unknown> } {
  try {
    return { ok: true, ...readAgentFile(raw) };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, code: error.code, message: error.message, extensions: { ...error.details } };
    throw error;
  }
}
