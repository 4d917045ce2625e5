/** Worker thread of the fan-out bench (services mode): a second API server on the same database and Redis. */
import { parentPort, workerData } from 'node:worker_threads';
import { closeServer, openServer } from '../lib/server.js';
import { errorMessage } from '../lib/workers.js';
import type { FromInstance, ToInstance } from './protocol.js';

async function instanceWorker(env: Record<string, string>): Promise<void> {
  const port = parentPort!;
  const opened = await openServer(env);
  port.on('message', (message: ToInstance) => {
    if (message.type !== 'close') return;
    void closeServer(opened).then(() => port.postMessage({ type: 'closed' } satisfies FromInstance));
  });
  port.postMessage({ type: 'ready', url: opened.server.url } satisfies FromInstance);
}

instanceWorker((workerData as { env: Record<string, string> }).env).catch((error: unknown) => parentPort?.postMessage(errorMessage(error)));
