/**
 * The benches' HTTP load generator: autocannon (fixed connections, keep-alive, no pipelining) in
 * a worker thread of its own, so that it does not queue behind the servers' JavaScript in this
 * thread (it still shares the machine's cores with them). Each response's latency is taken from
 * autocannon's per-response event and returned whole, for one Distribution across rounds.
 */
import type { Worker } from 'node:worker_threads';
import { startTsWorker, type Peer } from './workers.js';

export interface LoadRequest {
  type: 'run';
  url: string;
  /** POSTed as application/json. */
  body: string;
  seconds: number;
  connections: number;
  /** Every response must be exactly this text (status 200), or the run fails. */
  expectBody: string;
}

export interface LoadResult {
  type: 'result';
  /** Latencies (ms) of all successful requests, including those that finished after the window. */
  latencies: Float64Array;
  /** Successful requests that finished inside the window, and its length: the throughput. */
  inWindow: number;
  windowMs: number;
  /**
   * Requests sent, including those still in flight when autocannon stopped (it drops them, the
   * server still does their work): what the server's per-request counters divide by.
   */
  sent: number;
  failures: number;
  firstFailure: string | null;
}

export class LoadGenerator {
  private readonly worker: Worker;
  private readonly peer: Peer<LoadResult, LoadRequest>;

  constructor() {
    ({ worker: this.worker, peer: this.peer } = startTsWorker<LoadResult, LoadRequest>('load generator', new URL('./load-worker.ts', import.meta.url)));
  }

  async run(request: Omit<LoadRequest, 'type'>): Promise<LoadResult> {
    const reply = this.peer.expect('result');
    this.peer.send({ type: 'run', ...request });
    return reply;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
