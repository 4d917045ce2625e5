import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { parse, type ExecutionResult } from 'graphql';
import { makeServer, MessageType } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { sendMessage, sharedPayloadReplacer } from '../../src/transports/ws-sending.js';

/**
 * transports/ws-sending.ts relies on two details of its pinned dependencies (issue 20):
 * graphql-ws serialises each message with `jsonMessageReplacer` and hands it to `send` in the same
 * synchronous step, and ws keeps a corkable TCP socket in `_socket`. These tests hold them.
 */

describe('ws-sending assumptions', () => {
  it('graphql-ws serialises and sends each message in one synchronous step, and shared payloads arrive intact', async () => {
    const shared: ExecutionResult = { data: { value: 'shared "payload" \u2028 é' } };
    let serialising = false;
    const replacer = function (this: unknown, key: string, value: unknown) {
      if (key === '') {
        serialising = true;
        // Cleared at the next microtask: a send in the same synchronous step still sees it set.
        queueMicrotask(() => (serialising = false));
      }
      return sharedPayloadReplacer.call(this, key, value);
    };
    const frames: string[] = [];
    const synchronous: boolean[] = [];
    const fakeSocket = { readyState: WebSocket.OPEN, bufferedAmount: 0, send: (frame: string) => frames.push(frame) } as unknown as WebSocket;
    const server = makeServer({
      schema: undefined as never,
      onSubscribe: () => ({ schema: undefined as never, document: parse('subscription { value }'), rootValue: {} }),
      subscribe: async () =>
        (async function* () {
          yield shared;
          yield shared;
        })() as never,
      onNext: (_ctx, _id, _payload, _args, result) => result,
      jsonMessageReplacer: replacer,
    });
    let handle!: (data: string) => Promise<void>;
    server.opened(
      {
        protocol: 'graphql-transport-ws',
        send: (data) => {
          synchronous.push(serialising);
          return sendMessage(fakeSocket, data);
        },
        close: () => {},
        onMessage: (cb) => (handle = cb),
      },
      {},
    );
    await handle(JSON.stringify({ type: MessageType.ConnectionInit }));
    await handle(JSON.stringify({ id: '1', type: MessageType.Subscribe, payload: { query: 'subscription { value }' } }));
    expect(synchronous.length).toBeGreaterThanOrEqual(3);
    expect(synchronous.every(Boolean)).toBe(true);
    const expected = JSON.stringify({ id: '1', type: 'next', payload: shared });
    expect(frames.filter((frame) => frame.includes('"next"'))).toEqual([expected, expected]);
    expect(frames.at(-1)).toBe(JSON.stringify({ id: '1', type: 'complete' }));
  });

  it('ws keeps a corkable TCP socket in _socket', async () => {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`);
    const socket = await accepted;
    await new Promise((resolve) => (client.readyState === WebSocket.OPEN ? resolve(null) : client.once('open', resolve)));
    const tcp = (socket as unknown as { _socket?: { cork?: unknown; uncork?: unknown } })._socket;
    expect(typeof tcp?.cork).toBe('function');
    expect(typeof tcp?.uncork).toBe('function');
    client.close();
    wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});
