import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, freshDatabaseEnv, SERVICES_MODE, startWithScriptedModel, uniqueName, type GraphQLResult, type TestServer } from './helpers/server.js';
import type { ModelServer } from './model-server/server.js';

/**
 * Isolation (issue 13): a run whose database connection is lost (a failover, a pooler restart, an
 * administrator terminating backends) ends, failed with a code, or completes on a new connection;
 * it never stays `running`, its agent takes the next run, and a waiting sendMessage answers.
 * The server's connections are told apart by an application_name in its DATABASE_URL, so only
 * they are terminated (other test files share the PostgreSQL server).
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ADMIN_URL = (() => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test');
  url.searchParams.delete('schema');
  return url.toString();
})();

interface SendResult {
  sendMessage: { stopReason: string; run: { id: string; status: string; error: { code: string; message: string } | null } };
}
const SEND = `mutation($id: ID!, $text: String!) { sendMessage(input: { agentId: $id, input: $text }) { stopReason run { id status error { code message } } } }`;

// PGlite runs inside the server process: it has no connection that could be lost.
describe.skipIf(!SERVICES_MODE)('lost database connections (services mode only: embedded PGlite has no connection to lose)', () => {
  let model: ModelServer;
  let t: TestServer;
  let appName: string;
  /** Watches and terminates the server's backends. */
  let admin: pg.Client;
  /** Holds row locks (a separate session: pg_stat_activity is a snapshot inside a transaction). */
  let locker: pg.Client;
  let schema: string;
  /** Releases the model's held answer. */
  let release: () => void = () => {};
  let hold = false;

  beforeAll(async () => {
    appName = uniqueName('lost');
    const env = freshDatabaseEnv();
    const url = new URL(env.DATABASE_URL!);
    url.searchParams.set('application_name', appName);
    schema = url.searchParams.get('schema')!;
    ({ model, t } = await startWithScriptedModel(
      { ...env, DATABASE_URL: url.toString(), RUN_HEARTBEAT_MS: '200', RUN_STALE_AFTER_MS: '1500' },
      {
        // While `hold` is set, the model keeps its answer until the test releases it.
        brain: async () => {
          if (hold) await new Promise<void>((resolve) => (release = resolve));
          return { text: 'answered' };
        },
      },
    ));
    admin = new pg.Client({ connectionString: ADMIN_URL });
    locker = new pg.Client({ connectionString: ADMIN_URL });
    await Promise.all([admin.connect(), locker.connect()]);
  });
  afterEach(() => {
    hold = false;
    release();
  });
  afterAll(async () => {
    await Promise.all([admin?.end(), locker?.end()]);
    await closeAll(t, model);
  });

  const newAgent = async () =>
    (await t.ok<{ createAgent: { agent: { id: string } } }, unknown>(`mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }` as never)).createAgent.agent.id;

  /** Starts a waiting sendMessage whose model call is held open; resolves once the model was asked. */
  async function sendHeld(agentId: string) {
    hold = true;
    const asked = model.requests.length;
    const pending = t.request(SEND, { id: agentId, text: 'hello' } as never) as Promise<GraphQLResult<SendResult>>;
    while (model.requests.length === asked) await sleep(20);
    return { pending };
  }

  const terminateServerBackends = async () =>
    (await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [appName])).rowCount ?? 0;

  /** Server backends waiting for a lock, with their statement. */
  const waiting = async () =>
    (await admin.query<{ pid: number; query: string }>(`SELECT pid, query FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [appName])).rows;

  const terminate = (pids: number[]) => admin.query(`SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid`, [pids]);

  async function expectAgentTakesNextRun(agentId: string) {
    hold = false;
    const next = await t.request(SEND, { id: agentId, text: 'are you there?' } as never) as GraphQLResult<SendResult>;
    expect(next.errors).toBeUndefined();
    expect(next.data?.sendMessage.run.status).toBe('COMPLETED');
    const active = await t.request<{ runs: { edges: unknown[] } }, unknown>(`query($id: ID!) { runs(first: 10, filter: { agentId: $id, active: true }) { edges { cursor } } }`, { id: agentId });
    expect(active.data?.runs.edges).toEqual([]);
  }

  it('connections terminated while the model holds the step: the run completes on new connections', async () => {
    const agentId = await newAgent();
    const { pending } = await sendHeld(agentId);
    expect(await terminateServerBackends()).toBeGreaterThan(0);
    release();
    const result = await pending;
    expect(result.errors).toBeUndefined();
    expect(result.data?.sendMessage).toMatchObject({ stopReason: 'END_TURN', run: { status: 'COMPLETED', error: null } });
    await expectAgentTakesNextRun(agentId);
  });

  it('connections lost again and again while the run writes its step: it ends failed with DATABASE_UNAVAILABLE, and the waiting sendMessage says so', async () => {
    const agentId = await newAgent();
    const { pending } = await sendHeld(agentId);
    // The run's row is locked, so every write to it waits, and is cut off while it waits.
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM "${schema}"."Run" WHERE "agentId" = $1 FOR UPDATE`, [agentId]);
    release();
    const deadline = Date.now() + 30_000;
    try {
      // The step's writes are cut (and retried, and cut again) until the run gives up on them and
      // records its end, which is let through.
      for (;;) {
        if (Date.now() > deadline) throw new Error('the run never tried to record its end');
        const blocked = await waiting();
        if (blocked.some((row) => /"Run" SET "status"/.test(row.query))) break;
        if (blocked.length) await terminate(blocked.map((row) => row.pid));
        await sleep(20);
      }
    } finally {
      await locker.query('ROLLBACK');
    }
    const result = await pending;
    expect(result.errors).toBeUndefined();
    expect(result.data?.sendMessage).toMatchObject({ stopReason: 'ERROR', run: { status: 'FAILED', error: { code: 'DATABASE_UNAVAILABLE' } } });
    expect(result.data?.sendMessage.run.error?.message).toMatch(/database connection was lost/);
    await expectAgentTakesNextRun(agentId);
  });

  it('a run whose end cannot be written at all is ended by the liveness check, not left running', async () => {
    const agentId = await newAgent();
    const { pending } = await sendHeld(agentId);
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM "${schema}"."Run" WHERE "agentId" = $1 FOR UPDATE`, [agentId]);
    release();
    const deadline = Date.now() + 40_000;
    try {
      // Every write to the run is cut until the executor gives up on it.
      while (t.app.runtime.queue.runningIds().length > 0) {
        if (Date.now() > deadline) throw new Error('the executor never gave up');
        if ((await waiting()).length) await terminateServerBackends();
        await sleep(20);
      }
    } finally {
      await locker.query('ROLLBACK');
    }
    const result = await pending;
    expect(result.errors).toBeUndefined();
    expect(result.data?.sendMessage.run).toMatchObject({ status: 'FAILED', error: { code: 'INTERNAL' } });
    await expectAgentTakesNextRun(agentId);
  }, 60_000);
});
