import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * The embedded database (PGlite, PostgreSQL compiled to WASM) runs on a thread of its own, so that
 * executing SQL, maintaining indexes and writing pages never block the main thread that serves
 * requests and streams. The main thread talks to it as to any PostgreSQL server: pg and Prisma's
 * adapter-pg, over a Unix socket in a private temporary directory (no TCP port, nothing for
 * other users of the machine).
 */

/** pg's default port: the socket file is `<dir>/.s.PGSQL.5432`, where pg looks for it. */
export const PGLITE_SOCKET_PORT = 5432;

export interface PgliteThread {
  /** The directory holding the socket: pg's `host`. */
  readonly socketDir: string;
  close(): Promise<void>;
}

export async function startPgliteThread(location: string, setupSql: string): Promise<PgliteThread> {
  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-pglite-'));
  const socketPath = path.join(socketDir, `.s.PGSQL.${PGLITE_SOCKET_PORT}`);
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
    workerData: { location, socketPath, setupSql },
    // Plain JavaScript: no loader of the parent (tsx) is needed there.
    execArgv: [],
  });
  const cleanUp = () => fs.rmSync(socketDir, { recursive: true, force: true });
  const message = (type: string) =>
    new Promise<{ type: string; message?: string }>((resolve, reject) => {
      const onMessage = (value: { type: string; message?: string }) => {
        if (value.type !== type && value.type !== 'failed') return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(value);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  try {
    const started = await message('ready');
    if (started.type === 'failed') throw new Error(`The embedded database did not start: ${started.message}`);
  } catch (error) {
    await worker.terminate();
    cleanUp();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    socketDir,
    close: () =>
      (closing ??= (async () => {
        const closed = message('closed');
        worker.postMessage({ type: 'close' });
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]).catch(() => {});
        await worker.terminate();
        cleanUp();
      })()),
  };
}
