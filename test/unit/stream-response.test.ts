import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { pipeStream } from '../../src/server/stream-response.js';

/**
 * SSE backpressure (issue 14): a client that does not read is ended with SLOW_CONSUMER once it
 * has more than the limit unread, and the source stops being read. The response here is a stand-in
 * whose client never reads (everything written stays queued), so that the bound is exact.
 */
function unreadResponse() {
  const written: string[] = [];
  const res = {
    writableLength: 0,
    ended: false,
    write(chunk: Uint8Array | string) {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      written.push(text);
      res.writableLength += Buffer.byteLength(text);
      return false;
    },
    end() {
      res.ended = true;
    },
    destroy() {},
    once() {
      return res;
    },
  };
  return { res, written };
}

describe('pipeStream', () => {
  it('ends a client that leaves more than the limit unread with SLOW_CONSUMER and stops reading the source', async () => {
    let pulled = 0;
    let cancelled = false;
    const event = `event: next\ndata: ${JSON.stringify({ data: { x: 'y'.repeat(10_000) } })}\n\n`;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        if (pulled > 1000) return controller.close();
        controller.enqueue(new TextEncoder().encode(event));
      },
      cancel() {
        cancelled = true;
      },
    });
    const { res, written } = unreadResponse();
    await pipeStream(source, res as unknown as http.ServerResponse, new AbortController().signal, { maxBufferedBytes: 64 * 1024, eventStream: true });
    expect(cancelled).toBe(true);
    expect(res.ended).toBe(true);
    expect(pulled).toBeLessThan(20);
    expect(written.at(-1)).toContain('"code":"SLOW_CONSUMER"');
    expect(written.at(-1)).toContain('event: complete');
    expect(res.writableLength).toBeLessThan(64 * 1024 + 2 * event.length + 1024);
  });

  it('passes a stream through whole to a client that reads', async () => {
    const parts = ['event: next\ndata: {"data":1}\n\n', 'event: complete\ndata: \n\n'];
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
    const { res, written } = unreadResponse();
    await pipeStream(source, res as unknown as http.ServerResponse, new AbortController().signal, { maxBufferedBytes: 1024, eventStream: true });
    expect(written).toEqual(parts);
    expect(res.ended).toBe(true);
  });
});
