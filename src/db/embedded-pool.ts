import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

/**
 * The pool of the embedded database's one connection (PGlite serves one client at a time, see
 * pglite-thread.ts). Three things set it apart from a plain pg.Pool of one:
 *
 * - Interactive work goes first. Background work (processing uploaded files, analyzing tables)
 *   marks itself with `inBackground`; while it and interactive statements both wait for the
 *   connection, the interactive ones get it first, so that a request or a run waits behind at
 *   most the one background statement already running, not behind a queue of them (an upload
 *   writes hundreds of passage batches). A background statement waiting longer than
 *   BACKGROUND_MAX_WAIT_MS goes next anyway, so that background work is never starved.
 * - A statement the database refuses (a unique name taken, a foreign key gone) keeps the
 *   connection: pg-pool drops a client whose query failed, and the replacement it opened at
 *   once was refused while PGlite's thread had not yet seen the old connection close
 *   (ECONNRESET or EPIPE for the next statement).
 * - Opening the connection is retried briefly when it is refused, for the same reason: a
 *   connection that did break (it is then dropped) may still be closing on the other side.
 *
 * PostgreSQL (services mode) keeps pg.Pool as it is: its ten connections are not a queue of one.
 */

const background = new AsyncLocalStorage<boolean>();

/** Runs `work` as background work: on the embedded connection, its statements give way to interactive ones. */
export function inBackground<T>(work: () => Promise<T>): Promise<T> {
  return background.run(true, work);
}

export const BACKGROUND_MAX_WAIT_MS = 1_000;
/** Waits before the attempts to open the connection again after it was refused. */
const CONNECT_RETRY_DELAYS_MS = [5, 20, 50, 100, 250, 500];

/** One permit, interactive waiters first, then background ones (oldest first; one waiting too long goes first). */
class PriorityGate {
  private busy = false;
  private readonly interactive: Array<() => void> = [];
  private readonly background: Array<{ grant: () => void; since: number }> = [];

  acquire(isBackground: boolean): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise((grant) => {
      if (isBackground) this.background.push({ grant, since: performance.now() });
      else this.interactive.push(grant);
    });
  }

  release(): void {
    const oldest = this.background[0];
    const starved = oldest !== undefined && performance.now() - oldest.since > BACKGROUND_MAX_WAIT_MS;
    const next = starved ? this.background.shift()!.grant : (this.interactive.shift() ?? this.background.shift()?.grant);
    if (next) next();
    else this.busy = false;
  }
}

/** The connection was refused or dropped while it was being opened (not an error of the database). */
function isRefused(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNREFUSED' || (typeof message === 'string' && /connection terminated unexpectedly/i.test(message));
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: Error | boolean) => void) => void;

export class EmbeddedPool extends pg.Pool {
  private readonly gate = new PriorityGate();

  constructor(config: pg.PoolConfig) {
    super({ ...config, max: 1 });
  }

  // pg-pool's own query() checks its client out through this method too.
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const checkedOut = this.checkOut();
    if (!callback) return checkedOut;
    checkedOut.then(
      (client) => callback(undefined, client, client.release),
      (error: Error) => callback(error, undefined, () => {}),
    );
  }

  private async checkOut(): Promise<pg.PoolClient> {
    await this.gate.acquire(background.getStore() === true);
    let client: pg.PoolClient;
    try {
      client = await this.openOrReuse();
    } catch (error) {
      this.gate.release();
      throw error;
    }
    const release = client.release;
    let released = false;
    client.release = (error?: Error | boolean) => {
      const first = !released;
      released = true;
      // A DatabaseError is the server's answer to one statement: the session is fine. Anything else
      // (the connection broke) drops the client, as pg-pool does; a client that can no longer be
      // queried is dropped by pg-pool in any case.
      release(error instanceof pg.DatabaseError ? undefined : error);
      if (first) this.gate.release();
    };
    return client;
  }

  private async openOrReuse(): Promise<pg.PoolClient> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await super.connect();
      } catch (error) {
        const delay = CONNECT_RETRY_DELAYS_MS[attempt];
        if (delay === undefined || !isRefused(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
