/** Worker thread of LoadGenerator (load.ts): runs autocannon for each request it is sent. */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadRequest, LoadResult } from './load.js';
import { errorMessage } from './workers.js';

const port = parentPort!;

async function run(request: LoadRequest): Promise<LoadResult> {
  const latencies: number[] = [];
  let inWindow = 0;
  let failures = 0;
  let firstFailure: string | null = null;
  const fail = (reason: string) => {
    failures += 1;
    firstFailure ??= reason;
  };
  const windowMs = request.seconds * 1000;
  const deadline = performance.now() + windowMs;
  let finish!: (result: autocannon.Result) => void;
  let abort!: (error: Error) => void;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    abort = reject;
  });
  const instance = autocannon(
    {
    url: request.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: request.body,
    connections: request.connections,
    pipelining: 1,
    duration: request.seconds,
    // autocannon stops at its first sample tick after the duration: tick often, so that it stops on time.
    sampleInt: 50,
    expectBody: request.expectBody,
    bailout: 1,
    },
    (error, result) => (error ? abort(error instanceof Error ? error : new Error(String(error))) : finish(result)),
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode !== 200) return fail(`status ${statusCode}`);
    latencies.push(responseTime);
    if (performance.now() <= deadline) inWindow += 1;
  });
  instance.on('reqError', (error: Error) => fail(`request error: ${error.message}`));
  // (@types/autocannon does not list this event; autocannon emits it for expectBody.)
  (instance as NodeJS.EventEmitter).on('reqMismatch', (body: unknown) => fail(`response differs from the expected body (${String(body).length} vs ${request.expectBody.length} characters)`));
  const result = await finished;
  // Errors and mismatches are counted by the events above; timeouts come as reqError too.
  if (result.non2xx && !failures) fail(`${result.non2xx} non-2xx responses`);
  // In a worker thread autocannon returns its raw result (totalRequests), on the main thread the aggregated one (requests.sent).
  const raw = result as autocannon.Result & { totalRequests?: number };
  const sent = raw.totalRequests ?? raw.requests.sent;
  return { type: 'result', latencies: Float64Array.from(latencies), inWindow, windowMs, sent, failures, firstFailure };
}

port.on('message', (request: LoadRequest) => {
  run(request).then(
    (result) => port.postMessage(result, [result.latencies.buffer as ArrayBuffer]),
    (error: unknown) => port.postMessage(errorMessage(error)),
  );
});
