/**
 * The embedded database's own thread (pglite-thread.ts): PGlite, with pgvector, served over the
 * PostgreSQL wire protocol on a Unix socket by @electric-sql/pglite-socket. Plain JavaScript: it
 * needs no TypeScript, whatever started the process.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { location, socketPath, setupSql } = workerData;
try {
  const db = await PGlite.create(location, { extensions: { vector } });
  await db.exec(setupSql);
  // One client connection: the main thread's pool holds it, so statements never interleave.
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 1 });
  await server.start();
  parentPort.on('message', async (message) => {
    if (message?.type !== 'close') return;
    try {
      await server.stop();
      await db.close();
    } finally {
      parentPort.postMessage({ type: 'closed' });
    }
  });
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  parentPort.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
