import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPool } from '../src/db/embedded-pool.js';
import { PGLITE_SOCKET_PORT, startPgliteThread, type PgliteThread } from '../src/db/pglite-thread.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * The database connection outlives the statements that fail on it. In embedded mode there is one
 * connection to PGlite's thread, which accepts one client at a time: pg-pool dropped the client
 * of a statement the database refused and opened another at once, which the thread refused while
 * it had not yet seen the old one close, so the next statement failed with ECONNRESET or EPIPE
 * (seen in CI after a file was deleted while it was being embedded: its next passage batch
 * failed on the foreign key).
 */

const CREATE = `mutation($name: String!) { createFolder(input: { name: $name }) { folder { id } } }`;
const LIST = `query { folders(first: 5) { edges { node { id } } } }`;

describe('database connection', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a statement the database refuses does not cost the next statement its connection', async () => {
    const { prisma } = t.app.db;
    for (let round = 0; round < 20; round++) {
      await expect(prisma.$executeRawUnsafe('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
      // At once, as a file's processing does after its passage batch failed.
      expect(await prisma.$queryRawUnsafe<Array<{ one: number }>>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    }
  });

  it('requests go on after refused ones (a unique name taken)', async () => {
    expect((await t.request(CREATE, { name: 'taken' })).errors).toBeUndefined();
    for (let round = 0; round < 5; round++) {
      expect((await t.request(CREATE, { name: 'taken' })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
      const next = await t.request(LIST);
      expect(next.errors).toBeUndefined();
      expect(next.data).toBeTruthy();
    }
  });
});

describe('the embedded pool', () => {
  let thread: PgliteThread;
  let pool: EmbeddedPool;

  beforeAll(async () => {
    thread = await startPgliteThread('memory://', 'SELECT 1');
    pool = new EmbeddedPool({ host: thread.socketDir, port: PGLITE_SOCKET_PORT, user: 'postgres', database: 'postgres', idleTimeoutMillis: 0 });
  });
  afterAll(async () => {
    await pool?.end();
    await thread?.close();
  });

  it('opens a new connection when its client broke, while the old one may still be closing', async () => {
    for (let round = 0; round < 20; round++) {
      const client = await pool.connect();
      client.release(new Error('the connection broke')); // pg-pool ends it and opens another for the next statement
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    }
  });
});
