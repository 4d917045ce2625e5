import { grepFiles, type GrepArgs, type GrepFile, type GrepOutcome } from '../../agent/files/grep.js';
import { ToolExecutionError } from '../../errors.js';

/** grep_files in a worker thread: a tool error (bad pattern) comes back as a value. */
export function grepTask(input: { files: GrepFile[]; args: GrepArgs }): { ok: true; outcome: GrepOutcome } | { ok: false; message: string } {
  try {
    return { ok: true, outcome: grepFiles(input.files, input.args) };
  } catch (error) {
    if (error instanceof ToolExecutionError) return { ok: false, message: error.message };
    throw error;
  }
}
