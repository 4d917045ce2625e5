import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, readMigrations } from '../../src/db/migrate.js';
import { pgliteSession, pgSession } from '../../src/db/sessions.js';
import type { SqlSession } from '../../src/db/sql-session.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** A fresh, empty database; connect() opens another session on it. */
interface TestDatabase {
  connect(): Promise<SqlSession>;
  dispose(): Promise<void>;
}

async function freshPostgresSchema(): Promise<TestDatabase> {
  const schema = `mig_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const sessions: SqlSession[] = [];
  return {
    async connect() {
      const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
      await client.connect();
      const session = pgSession(client);
      sessions.push(session);
      return session;
    },
    async dispose() {
      await Promise.all(sessions.map((s) => s.release()));
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

// Set up like the app's PGlite (src/db/client.ts), with pgvector enabled before migrating.
async function freshPglite(): Promise<TestDatabase> {
  const db = new PGlite({ extensions: { vector } });
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
  return {
    connect: async () => pgliteSession(db),
    dispose: () => db.close(),
  };
}

async function tempMigrations(migrations: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'migrations-'));
  for (const [name, sql] of Object.entries(migrations)) {
    await fs.mkdir(path.join(dir, name));
    await fs.writeFile(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

const tableExists = async (session: SqlSession, table: string) =>
  (await session.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [`"${table}"`]))[0]!.found;

const recordedNames = async (session: SqlSession) =>
  (await session.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name'))
    .map((r) => r.migration_name);

describe.each([
  { backend: 'PostgreSQL', open: freshPostgresSchema },
  { backend: 'PGlite', open: freshPglite },
])('applyMigrations on $backend', ({ backend, open }) => {
  let database: TestDatabase;
  let session: SqlSession;
  const tempDirs: string[] = [];

  beforeEach(async () => {
    database = await open();
    session = await database.connect();
  });
  afterEach(async () => {
    await database.dispose();
    await Promise.all(tempDirs.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
  });

  it('applies every migration to a fresh database and records it as Prisma does', async () => {
    const migrations = await readMigrations(MIGRATIONS_DIR);
    expect(migrations.length).toBeGreaterThan(0);

    const { applied } = await applyMigrations(session, { migrationsDir: MIGRATIONS_DIR });
    expect(applied).toEqual(migrations.map((m) => m.name));
    expect(await tableExists(session, 'Agent')).toBe(true);

    const columns = await session.query(
      `SELECT column_name, data_type, character_maximum_length AS length, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '_prisma_migrations'
        ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'character varying', length: 36, is_nullable: 'NO', column_default: null },
      { column_name: 'checksum', data_type: 'character varying', length: 64, is_nullable: 'NO', column_default: null },
      { column_name: 'finished_at', data_type: 'timestamp with time zone', length: null, is_nullable: 'YES', column_default: null },
      { column_name: 'migration_name', data_type: 'character varying', length: 255, is_nullable: 'NO', column_default: null },
      { column_name: 'logs', data_type: 'text', length: null, is_nullable: 'YES', column_default: null },
      { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', length: null, is_nullable: 'YES', column_default: null },
      { column_name: 'started_at', data_type: 'timestamp with time zone', length: null, is_nullable: 'NO', column_default: 'now()' },
      { column_name: 'applied_steps_count', data_type: 'integer', length: null, is_nullable: 'NO', column_default: '0' },
    ]);

    const rows = await session.query<Record<string, unknown>>(
      'SELECT * FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows).toHaveLength(migrations.length);
    for (const [i, row] of rows.entries()) {
      const file = await fs.readFile(path.join(MIGRATIONS_DIR, migrations[i]!.name, 'migration.sql'));
      expect(row).toMatchObject({
        migration_name: migrations[i]!.name,
        checksum: createHash('sha256').update(file).digest('hex'),
        logs: null,
        rolled_back_at: null,
        applied_steps_count: 1,
      });
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect((row.finished_at as Date).getTime()).toBeGreaterThanOrEqual((row.started_at as Date).getTime());
    }
  });

  it('applies nothing when run again', async () => {
    await applyMigrations(session, { migrationsDir: MIGRATIONS_DIR });
    const before = await session.query('SELECT * FROM _prisma_migrations ORDER BY id');

    const messages: string[] = [];
    const { applied } = await applyMigrations(session, {
      migrationsDir: MIGRATIONS_DIR,
      log: (msg) => messages.push(msg),
    });
    expect(applied).toEqual([]);
    expect(messages).toContain('no pending migrations');
    expect(await session.query('SELECT * FROM _prisma_migrations ORDER BY id')).toEqual(before);
  });

  // Two sessions on one database exist only on PostgreSQL (PGlite is a single in-process connection).
  if (backend === 'PostgreSQL') it('lets exactly one of two simultaneous runners apply the migrations', async () => {
    const other = await database.connect();
    const results = await Promise.all([
      applyMigrations(session, { migrationsDir: MIGRATIONS_DIR }),
      applyMigrations(other, { migrationsDir: MIGRATIONS_DIR }),
    ]);

    const names = (await readMigrations(MIGRATIONS_DIR)).map((m) => m.name);
    expect(results.map((r) => r.applied).sort((a, b) => a.length - b.length)).toEqual([[], names]);
    expect(await recordedNames(session)).toEqual(names);
    const agentTables = await session.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_class WHERE relname = 'Agent' AND relnamespace = current_schema()::regnamespace`,
    );
    expect(agentTables[0]!.n).toBe(1);
  });

  it('rolls back a failing migration completely and names it', async () => {
    const dir = await tempMigrations({
      '001_good': 'CREATE TABLE "Good" (id INTEGER PRIMARY KEY);\n',
      '002_bad': 'CREATE TABLE "Half" (id INTEGER PRIMARY KEY);\nCREATE TABLE "Broken" (id INTEGER,;\n',
    });
    tempDirs.push(dir);

    await expect(applyMigrations(session, { migrationsDir: dir })).rejects.toThrow(/Migration 002_bad failed/);

    expect(await tableExists(session, 'Good')).toBe(true);
    expect(await tableExists(session, 'Half')).toBe(false);
    expect(await recordedNames(session)).toEqual(['001_good']);
    // The advisory lock was released: another run can take it and fails the same way, not hang.
    await expect(applyMigrations(session, { migrationsDir: dir })).rejects.toThrow(/002_bad/);
    const locks = await session.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`,
    );
    expect(locks[0]!.n).toBe(0);
  });

  it('refuses to continue when an applied migration was edited', async () => {
    const dir = await tempMigrations({ '001_init': 'CREATE TABLE "Thing" (id INTEGER PRIMARY KEY);\n' });
    tempDirs.push(dir);
    await applyMigrations(session, { migrationsDir: dir });

    await fs.writeFile(path.join(dir, '001_init', 'migration.sql'), 'CREATE TABLE "Thing" (id BIGINT PRIMARY KEY);\n');
    await fs.mkdir(path.join(dir, '002_next'));
    await fs.writeFile(path.join(dir, '002_next', 'migration.sql'), 'CREATE TABLE "Next" (id INTEGER);\n');

    await expect(applyMigrations(session, { migrationsDir: dir })).rejects.toThrow(
      /Migration 001_init was modified after it was applied/,
    );
    expect(await tableExists(session, 'Next')).toBe(false);
    expect(await recordedNames(session)).toEqual(['001_init']);
  });
});
