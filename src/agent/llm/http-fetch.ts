import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

/**
 * The `fetch` the AI SDK's providers send model requests through: `node:http(s)` with keep-alive
 * agents, answering a web `Response` whose body streams the socket's bytes. Node's own fetch
 * (undici) costs about twice the main thread's CPU per request (measured on an SSE answer: about
 * 0.8 against 0.3 ms), and every agent step makes one.
 *
 * It covers what the providers send: a string or byte body to an http(s) URL. Anything else (a
 * Request, a stream or form body, another scheme) and every redirect go to the global fetch.
 * As fetch: an abort rejects with the signal's reason, or errors the body with it once the
 * answer has started; a network failure rejects with `TypeError('fetch failed', { cause })`,
 * which the SDK reports as a retryable connection error.
 */

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }),
};

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export const modelFetch: typeof globalThis.fetch = (input, init) => {
  const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
  const body = init?.body;
  const plainBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
  if (!url || !plainBody || (url.protocol !== 'http:' && url.protocol !== 'https:') || (init?.redirect && init.redirect !== 'follow')) {
    return globalThis.fetch(input, init);
  }
  const signal = init?.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<Response>((resolve, reject) => {
    let answered: http.IncomingMessage | undefined;
    const onAbort = () => {
      const reason: unknown = signal!.reason;
      if (answered) answered.destroy(reason as Error);
      request.destroy();
      reject(reason);
    };
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: init?.method ?? 'GET', headers: plainHeaders(init?.headers), agent: url.protocol === 'https:' ? agents['https:'] : agents['http:'] },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400 && response.headers.location) {
          response.resume();
          signal?.removeEventListener('abort', onAbort);
          globalThis.fetch(input, init).then(resolve, reject);
          return;
        }
        answered = response;
        response.once('close', () => signal?.removeEventListener('abort', onAbort));
        const headers = new Headers();
        for (let index = 0; index < response.rawHeaders.length; index += 2) headers.append(response.rawHeaders[index]!, response.rawHeaders[index + 1]!);
        const stream = NULL_BODY_STATUSES.has(status) || init?.method === 'HEAD' ? null : (Readable.toWeb(decoded(response)) as ReadableStream<Uint8Array>);
        if (!stream) response.resume();
        resolve(new Response(stream, { status, statusText: response.statusMessage ?? '', headers }));
      },
    );
    request.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    request.end(body ?? undefined);
  });
};

/** Headers as `node:http` takes them (the SDK passes a record; undefined values are left out). */
function plainHeaders(headers: HeadersInit | undefined): http.OutgoingHttpHeaders {
  const plain: http.OutgoingHttpHeaders = {};
  if (!headers) return plain;
  const entries = headers instanceof Headers || Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [name, value] of entries) if (value !== undefined) plain[name.toLowerCase()] = value;
  return plain;
}

/** The body as sent, or decompressed when a server compressed it unasked. */
function decoded(response: http.IncomingMessage): Readable {
  const encoding = response.headers['content-encoding']?.trim().toLowerCase();
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : encoding === 'br' ? zlib.createBrotliDecompress() : undefined;
  if (!decoder) return response;
  response.on('error', (error) => decoder.destroy(error));
  return response.pipe(decoder);
}
