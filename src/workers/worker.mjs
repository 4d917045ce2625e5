/**
 * The entry of every worker thread of the pool (pool.ts). Plain JavaScript, so that a worker can
 * start whatever started the process (`node --import tsx`, vitest): it registers tsx itself and
 * then loads the TypeScript task modules.
 */
import { register } from 'tsx/esm/api';

register();
const { runTask } = await import('./tasks.ts');

/** Piscina calls this with one task: { task: name, input }. */
export default function run(message) {
  return runTask(message.task, message.input);
}
