/** The main thread's side of the model worker and of the client process. */
import type { ChildProcess } from 'node:child_process';
import type { Worker } from 'node:worker_threads';
import { sleep } from '../lib/clock.js';
import { startTsProcess, startTsWorker, type Peer } from '../lib/workers.js';
import type { ClientResults, Expectation, FromClient, FromModel, ToClient, ToModel } from './protocol.js';

export class ModelWorker {
  private readonly worker: Worker;
  readonly peer: Peer<FromModel, ToModel>;
  url = '';

  constructor() {
    ({ worker: this.worker, peer: this.peer } = startTsWorker<FromModel, ToModel>('model worker', new URL('./model-worker.ts', import.meta.url)));
  }

  async start(): Promise<void> {
    this.url = (await this.peer.expect('ready')).url;
  }

  /** Emit times of the content chunks written since the last take. */
  async take(): Promise<{ emits: Float64Array; mismatches: number }> {
    const reply = this.peer.expect('emits');
    this.peer.send({ type: 'take' });
    return reply;
  }

  release(): void {
    this.peer.send({ type: 'release' });
  }

  async close(): Promise<void> {
    const closed = this.peer.next('closed', undefined, 2000).catch(() => undefined);
    this.peer.send({ type: 'close' });
    await closed;
    await this.worker.terminate();
  }
}

export class Clients {
  private readonly child: ChildProcess;
  readonly peer: Peer<FromClient, ToClient>;
  private groupCount = 0;

  constructor() {
    ({ child: this.child, peer: this.peer } = startTsProcess<FromClient, ToClient>('client process', new URL('./client-process.ts', import.meta.url)));
  }

  /** Opens `connections` sockets (round robin over urls); resolves to the group's name. */
  async connect(kind: 'graphql' | 'plain', urls: string[], connections: number): Promise<string> {
    const group = `${kind}-${++this.groupCount}`;
    const connected = this.peer.expect('connected', (message) => message.group === group);
    this.peer.send({ type: 'connect', group, kind, urls, connections });
    const result = await connected;
    if (result.failed) throw new Error(`${result.failed} of ${connections} ${kind} connections failed, first: ${result.firstError}`);
    return group;
  }

  /** Subscribes every connection of the group `perConnection` times; resolves when each subscriber received an event (or after timeoutMs: false). */
  async subscribe(group: string, runId: string, after: number, perConnection: number, timeoutMs: number): Promise<boolean> {
    const attached = this.peer.next('attached', (message) => message.group === group, timeoutMs);
    this.peer.send({ type: 'subscribe', group, runId, after, perConnection });
    return (await attached) !== undefined;
  }

  /** Resolves when every subscriber of the group completed or failed (false: timed out). */
  async waitDone(group: string, timeoutMs: number): Promise<boolean> {
    return (await this.peer.next('done', (message) => message.group === group, timeoutMs)) !== undefined;
  }

  async results(group: string, expect: Expectation): Promise<ClientResults> {
    const reply = this.peer.expect('results', (message) => message.group === group);
    this.peer.send({ type: 'results', group, expect });
    return (await reply).results;
  }

  async dispose(group: string): Promise<void> {
    const reply = this.peer.expect('disposed', (message) => message.group === group);
    this.peer.send({ type: 'dispose', group });
    await reply;
  }

  /** CPU time the client process has used so far (µs). */
  async cpu(): Promise<number> {
    const reply = this.peer.expect('cpu');
    this.peer.send({ type: 'cpu' });
    return (await reply).micros;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    try {
      this.child.send({ type: 'exit' } satisfies ToClient);
    } catch {
      this.child.kill();
    }
    await Promise.race([exited, sleep(3000)]);
    if (this.child.exitCode === null) this.child.kill();
  }
}
