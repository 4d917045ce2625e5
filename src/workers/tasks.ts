import { decodeUpload, prepareFile, embedLocalBatch } from './tasks/files.js';
import { grepTask } from './tasks/grep.js';
import { readAgentFileTask } from './tasks/agent-files.js';

/**
 * Every CPU-bound task the worker threads run, by name. Only the worker threads load this module
 * (through worker.mjs); the main thread imports its types alone. Each task takes and returns
 * structured-cloneable values, and reports expected failures as values, not thrown errors
 * (an error's class does not survive the trip between threads).
 */
export const TASKS = {
  'file.prepare': prepareFile,
  'file.decode': decodeUpload,
  'embed.local': embedLocalBatch,
  'grep.files': grepTask,
  'agentFile.read': readAgentFileTask,
} as const;

export type Tasks = typeof TASKS;
export type TaskName = keyof Tasks;
export type TaskInput<K extends TaskName> = Parameters<Tasks[K]>[0];
export type TaskOutput<K extends TaskName> = Awaited<ReturnType<Tasks[K]>>;

export function runTask(task: string, input: unknown): unknown {
  const run = (TASKS as Record<string, (input: never) => unknown>)[task];
  if (!run) throw new Error(`unknown worker task '${task}'`);
  return run(input as never);
}
