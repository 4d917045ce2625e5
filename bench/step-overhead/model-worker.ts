/**
 * Worker thread of bench/step-overhead.ts: test/model-server with a zero-latency two-step brain
 * (user message → memory_insert on block "human"; tool result → a short text, end_turn), timing
 * every chat request from its first byte in to its last byte out.
 */
import http from 'node:http';
import { parentPort } from 'node:worker_threads';
import { nowMs } from '../lib/clock.js';
import { errorMessage } from '../lib/workers.js';

export interface ModelTiming {
  /** First byte of the request in (headers parsed). */
  start: number;
  /** Last byte of the response out ('finish'). */
  end: number;
}

export type ToModel = { type: 'take' } | { type: 'close' };
export type FromModel = { type: 'ready'; url: string } | { type: 'timings'; timings: ModelTiming[] } | { type: 'closed' };

async function modelWorker(): Promise<void> {
  const port = parentPort!;
  const timings: ModelTiming[] = [];
  // test/model-server calls http.createServer through the module object: wrap its handler to
  // see each request's first and last byte (the model server itself is unchanged).
  const createServer = http.createServer;
  (http as { createServer: unknown }).createServer = (handler: http.RequestListener) =>
    createServer((req, res) => {
      const start = nowMs();
      if (req.method === 'POST' && req.url?.endsWith('/chat/completions')) {
        res.once('finish', () => timings.push({ start, end: nowMs() }));
      }
      handler(req, res);
    });
  const { startModelServer } = await import('../../test/model-server/server.js');
  let fact = 0;
  const server = await startModelServer({
    brain: (request) => {
      const last = request.messages.at(-1);
      // Fixed usage: the model server would otherwise JSON.stringify the whole prompt to estimate it.
      const usage = { prompt_tokens: 1000, completion_tokens: 10 };
      if (last?.role === 'tool') return { text: 'Noted, thanks.', usage };
      fact += 1;
      return { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: `Fact ${fact}.` } }], usage };
    },
  });
  port.on('message', (message: ToModel) => {
    if (message.type === 'take') {
      // The server keeps every request body for assertions; drop them, they grow with the history.
      server.requests.length = 0;
      port.postMessage({ type: 'timings', timings: timings.splice(0) } satisfies FromModel);
    } else if (message.type === 'close') {
      void server.close().then(() => port.postMessage({ type: 'closed' } satisfies FromModel));
    }
  });
  port.postMessage({ type: 'ready', url: server.url } satisfies FromModel);
}

modelWorker().catch((error: unknown) => parentPort?.postMessage(errorMessage(error)));
