/**
 * Worker threads and child processes that run a TypeScript module of the benches. Neither
 * inherits tsx's loader, so both start with a small CommonJS entry that loads the module through
 * tsx's API (`tsImport`); this works under `npx tsx` and `node --import tsx` alike. A module
 * that fails to load reports `{ type: 'error', message }` on the channel, like a running one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';

/** Every message names its type; `{ type: 'error', message }` fails the peer. */
export interface Message {
  type: string;
}

export interface ErrorMessage {
  type: 'error';
  message: string;
}

function entryCode(moduleUrl: string): string {
  const api = import.meta.resolve('tsx/esm/api');
  const parent = import.meta.url;
  return `import(${JSON.stringify(api)}).then(({ tsImport }) => tsImport(${JSON.stringify(moduleUrl)}, ${JSON.stringify(parent)}))
  .catch((error) => {
    const message = { type: 'error', message: String((error && error.stack) || error) };
    const { parentPort } = require('node:worker_threads');
    if (parentPort) parentPort.postMessage(message);
    else if (process.send) process.send(message);
    else console.error(message.message);
  });`;
}

/** An error as the `error` message a worker or child process posts. */
export const errorMessage = (error: unknown): ErrorMessage => ({ type: 'error', message: String(error instanceof Error ? (error.stack ?? error.message) : error) });

/** Typed request/response over a worker's or a child process's message channel. */
export class Peer<In extends Message, Out> {
  private readonly waiters: Array<{ accept: (message: In) => boolean; resolve: (message: In) => void; reject: (error: Error) => void }> = [];
  private failure: Error | undefined;
  /** Messages that arrived before anyone waited for them. */
  private readonly unclaimed: In[] = [];

  constructor(
    private readonly name: string,
    private readonly post: (message: Out) => void,
  ) {}

  receive(message: In | ErrorMessage): void {
    if (message.type === 'error') return this.fail(new Error(`${this.name}: ${(message as ErrorMessage).message}`));
    const index = this.waiters.findIndex((waiter) => waiter.accept(message as In));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(message as In);
    else this.unclaimed.push(message as In); // for a next() that comes later
  }

  fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  send(message: Out): void {
    this.post(message);
  }

  /** The next message of this type (that `accept` accepts); undefined after timeoutMs (0: no timeout). */
  next<T extends In['type']>(type: T, accept: (message: Extract<In, { type: T }>) => boolean = () => true, timeoutMs = 0): Promise<Extract<In, { type: T }> | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const waiting = this.unclaimed.findIndex((message) => message.type === type && accept(message as Extract<In, { type: T }>));
    if (waiting >= 0) return Promise.resolve(this.unclaimed.splice(waiting, 1)[0] as Extract<In, { type: T }>);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        accept: (message: In) => message.type === type && accept(message as Extract<In, { type: T }>),
        resolve: (message: In) => {
          clearTimeout(timer);
          resolve(message as Extract<In, { type: T }>);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          resolve(undefined);
        }, timeoutMs);
      }
    });
  }

  /** next() that must answer. */
  async expect<T extends In['type']>(type: T, accept?: (message: Extract<In, { type: T }>) => boolean): Promise<Extract<In, { type: T }>> {
    return (await this.next(type, accept))!;
  }
}

/** A worker thread running the TypeScript module at `moduleUrl` (it reads `workerData` and talks through `parentPort`). */
export function startTsWorker<In extends Message, Out>(name: string, moduleUrl: string | URL, data?: unknown): { worker: Worker; peer: Peer<In, Out> } {
  const worker = new Worker(entryCode(String(moduleUrl)), { eval: true, execArgv: [], workerData: data });
  const peer = new Peer<In, Out>(name, (message) => worker.postMessage(message));
  worker.on('message', (message: In) => peer.receive(message));
  worker.on('error', (error) => peer.fail(error));
  worker.on('exit', (code) => peer.fail(new Error(`${name} exited (${code})`)));
  return { worker, peer };
}

/**
 * A child process running the TypeScript module at `moduleUrl` (it talks through process.send and
 * process.on('message'); structured clone, so typed arrays pass). stdout and stderr are this process's.
 */
export function startTsProcess<In extends Message, Out>(name: string, moduleUrl: string | URL, env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; peer: Peer<In, Out> } {
  const childEnv = { ...env };
  delete childEnv.NODE_OPTIONS;
  const child = spawn(process.execPath, ['-e', entryCode(String(moduleUrl))], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', env: childEnv });
  const peer = new Peer<In, Out>(name, (message) => child.send(message as object));
  child.on('message', (message) => peer.receive(message as In));
  child.on('error', (error) => peer.fail(error));
  child.on('exit', (code, signal) => peer.fail(new Error(`${name} exited (${code ?? signal})`)));
  return { child, peer };
}
