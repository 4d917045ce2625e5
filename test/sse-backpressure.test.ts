import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { SSE_PATH } from '../src/server.js';
import { closeAll, eventually, startWithScriptedModel } from './helpers/server.js';

/** SSE backpressure (issue 14): a client that stops reading ends with SLOW_CONSUMER, the server holding a bounded amount. */

const RUN_EVENTS = `subscription($runId: ID!) { runEvents(runId: $runId) { __typename seq ... on MessageDeltaEvent { delta } } }`;

const cleanup: Array<{ close(): Promise<void> } | undefined> = [];
afterAll(async () => {
  await closeAll(...cleanup.reverse());
});

describe('SSE backpressure', () => {
  it('ends a client that does not read with SLOW_CONSUMER instead of buffering its events', { timeout: 240_000 }, async () => {
    const limit = 64 * 1024;
    const { model, t } = await startWithScriptedModel({ SSE_BUFFER_BYTES: String(limit) });
    cleanup.push(model, t);
    const agentId = ((await t.ok('mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }' as never)) as { createAgent: { agent: { id: string } } }).createAgent.agent.id;
    // About 12 MB in 240 deltas: far more than the socket buffers between server and client hold.
    const piece = 'abcdefghij'.repeat(5_000);
    const text = Array.from({ length: 240 }, () => piece).join('');
    model.enqueue({ text, chunkSize: piece.length, chunkDelayMs: 5 });
    const runId = ((await t.ok(`mutation { sendMessageAsync(agentId: "${agentId}", input: { input: "talk" }) { run { id } } }` as never)) as { sendMessageAsync: { run: { id: string } } }).sendMessageAsync.run.id;

    const chunks: Buffer[] = [];
    let ended = false;
    let firstData!: () => void;
    const gotData = new Promise<void>((resolve) => (firstData = resolve));
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = http.request(new URL(SSE_PATH, t.url), { method: 'POST', agent: false, headers: { 'content-type': 'application/json', accept: 'text/event-stream' } }, resolve);
      request.on('error', reject);
      request.end(JSON.stringify({ query: RUN_EVENTS, variables: { runId } }));
    });
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      firstData();
    });
    response.on('end', () => (ended = true));
    response.on('close', () => (ended = true));
    response.on('error', () => (ended = true));
    await gotData;
    response.pause(); // the client stops reading

    await eventually(
      () => false,
      async () => {
        const run = (await t.ok(`{ run(id: "${runId}") { status } }` as never)) as { run: { status: string } };
        if (run.run.status !== 'running' && run.run.status !== 'created') throw new Done();
      },
      120_000,
    ).catch((error: unknown) => {
      if (!(error instanceof Done)) throw error;
    });
    response.resume();
    await eventually(() => ended, undefined, 60_000);
    const received = Buffer.concat(chunks).toString('utf8');
    expect(received).toContain('SLOW_CONSUMER');
    expect(received.length).toBeLessThan(text.length);
    expect(received).not.toContain('"__typename":"StopReasonEvent"');
  });
});

class Done extends Error {}
