import type http from 'node:http';

/**
 * Copies a streamed response (SSE, multipart/mixed) to the client with the same backpressure as
 * graphql-ws (transports/ws-sending.ts): writes continue while the client reads, and a client
 * that leaves more than `maxBufferedBytes` unread is ended with SLOW_CONSUMER, so the server never
 * holds more than that for it. Reading from the source stops at once, which ends the subscription.
 */
/** How long a client ended for reading too slowly has to collect its last events. */
const SLOW_CONSUMER_GRACE_MS = 30_000;

export async function pipeStream(
  body: ReadableStream<Uint8Array>,
  res: http.ServerResponse,
  signal: AbortSignal,
  options: { maxBufferedBytes: number; eventStream: boolean; onSlowConsumer?: () => void },
): Promise<void> {
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', cancel);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
      if (res.writableLength > options.maxBufferedBytes) {
        options.onSlowConsumer?.();
        cancel();
        if (options.eventStream) res.write(slowConsumerEvent(options.maxBufferedBytes));
        res.end();
        // What is queued stays bounded; a client that still does not read is cut off.
        const cutOff = setTimeout(() => res.destroy(), SLOW_CONSUMER_GRACE_MS).unref();
        res.once('close', () => clearTimeout(cutOff));
        return;
      }
    }
  } catch {
    // the client went away or the stream was cancelled at shutdown
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  res.end();
}

/** A final `next` event (graphql-sse's distinct connections mode) and `complete`. */
function slowConsumerEvent(limit: number): string {
  const message = `The client read its event stream too slowly (more than ${limit} bytes unread) and was disconnected; subscribe again (runEvents: with after)`;
  const payload = JSON.stringify({ errors: [{ message, extensions: { code: 'SLOW_CONSUMER' } }] });
  return `event: next\ndata: ${payload}\n\nevent: complete\ndata: \n\n`;
}
