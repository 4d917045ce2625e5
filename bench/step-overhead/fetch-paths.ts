/**
 * CPU per model request of the two HTTP clients a step could use: Node's fetch (undici) against
 * `modelFetch` (src/agent/llm/http-fetch.ts, node:http with keep-alive), each POSTing a 20-message
 * chat request to a local server that answers a short SSE stream, the body read to its end
 * through a TextDecoderStream as the AI SDK does. The server runs in this process, so each figure
 * includes its (equal) share.
 *
 *   npx tsx bench/step-overhead/fetch-paths.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { modelFetch } from '../../src/agent/llm/http-fetch.js';

const REQUESTS = 3000;
const CALLERS = 20;

const chunk = (i: number) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: `word${i} ` } }] })}\n\n`;
const SSE = `${Array.from({ length: 8 }, (_, i) => chunk(i)).join('')}data: [DONE]\n\n`;
const BODY = JSON.stringify({ model: 'x', stream: true, messages: Array.from({ length: 20 }, (_, i) => ({ role: 'user', content: `${'hello '.repeat(50)}${i}` })) });

async function main() {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(SSE);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  const consume = async (fetch: typeof globalThis.fetch) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, signal: AbortSignal.timeout(10_000) });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let length = 0;
    for (let part = await reader.read(); !part.done; part = await reader.read()) length += part.value.length;
    if (length !== SSE.length) throw new Error(`read ${length} of ${SSE.length} characters`);
  };
  for (let round = 0; round < 3; round++) {
    for (const [name, fetch] of [['fetch', globalThis.fetch], ['modelFetch', modelFetch]] as const) {
      let left = REQUESTS;
      const before = process.cpuUsage();
      await Promise.all(Array.from({ length: CALLERS }, async () => {
        while (left-- > 0) await consume(fetch);
      }));
      const used = process.cpuUsage(before);
      console.log(`round ${round} ${name.padEnd(10)} ${((used.user + used.system) / REQUESTS).toFixed(0).padStart(5)} µs CPU per request (client and server)`);
    }
  }
  server.close();
  server.closeAllConnections();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
