import http from 'node:http';
import { parentPort } from 'node:worker_threads';
import { nowMs } from '../lib/clock.js';
import { errorMessage } from '../lib/workers.js';
import { CHUNK_SIZE, chunkText, replyText, type FromModel, type ToModel } from './protocol.js';

// =============================================================================================
// Model worker: test/model-server with a counting brain; records when each content chunk is written.
// =============================================================================================

async function modelWorker(): Promise<void> {
  const port = parentPort!;
  let emits: number[] = [];
  let mismatches = 0;
  // test/model-server calls http.createServer through the module object: wrap its handler to
  // time every content chunk as it is written (the model server itself is unchanged).
  const createServer = http.createServer;
  (http as { createServer: unknown }).createServer = (handler: http.RequestListener) =>
    createServer((req, res) => {
      if (req.method === 'POST' && req.url?.endsWith('/chat/completions')) {
        const write = res.write as (...args: unknown[]) => boolean;
        (res as { write: unknown }).write = function (this: unknown, ...args: unknown[]) {
          const data = args[0];
          if (typeof data === 'string' && data.startsWith('data: {') && data.includes('"content":"')) {
            const at = nowMs();
            try {
              const content = (JSON.parse(data.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content;
              if (content) {
                if (content !== chunkText(emits.length)) mismatches += 1;
                emits.push(at);
              }
            } catch {
              // not a chunk this bench sends
            }
          }
          return write.apply(this, args);
        };
      }
      handler(req, res);
    });
  const { startModelServer, messageText } = await import('../../test/model-server/server.js');
  const held: Array<() => void> = [];
  const server = await startModelServer({
    brain: async (request) => {
      // The bench's instruction is the last user message starting with "bench"; a tool result
      // after it means this is the run's second step.
      const messages = request.messages;
      const index = messages.findLastIndex((message) => message.role === 'user' && messageText(message).startsWith('bench '));
      const match = /^bench (\d+) (\d+) (hold|go|tool-then-hold)$/.exec(index >= 0 ? messageText(messages[index]).trim() : '');
      // Fixed usage: the model server would otherwise JSON.stringify the whole prompt to estimate it.
      if (!match) return { text: 'ok', usage: { prompt_tokens: 100, completion_tokens: 1 } };
      const chunks = Number(match[1]);
      if (match[3] === 'tool-then-hold' && !messages.slice(index + 1).some((message) => message.role === 'tool')) {
        // Step 1: a quick tool call, so that the run has stored events before the text streams.
        return { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Streams a lot.' } }], usage: { prompt_tokens: 100, completion_tokens: 10 } };
      }
      if (match[3] !== 'go') {
        port.postMessage({ type: 'held' } satisfies FromModel);
        await new Promise<void>((resolve) => held.push(resolve));
      }
      return { text: replyText(chunks), chunkSize: CHUNK_SIZE, chunkDelayMs: Number(match[2]), usage: { prompt_tokens: 100, completion_tokens: chunks } };
    },
  });
  port.on('message', (message: ToModel) => {
    if (message.type === 'release') {
      for (const release of held.splice(0)) release();
    } else if (message.type === 'take') {
      server.requests.length = 0;
      const taken = Float64Array.from(emits);
      port.postMessage({ type: 'emits', emits: taken, mismatches } satisfies FromModel, [taken.buffer]);
      emits = [];
      mismatches = 0;
    } else if (message.type === 'close') {
      for (const release of held.splice(0)) release();
      void server.close().then(() => port.postMessage({ type: 'closed' } satisfies FromModel));
    }
  });
  port.postMessage({ type: 'ready', url: server.url } satisfies FromModel);
}

modelWorker().catch((error: unknown) => parentPort?.postMessage(errorMessage(error)));
