import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SqlSession } from './sql-session.js';

export interface Migration {
  /** Folder name, e.g. `20261129000000_init`. */
  name: string;
  sql: string;
  /** sha256 hex of migration.sql, as Prisma stores it in `_prisma_migrations.checksum`. */
  checksum: string;
}

export interface MigrateOptions {
  migrationsDir: string;
  log?: (msg: string, data?: Record<string, unknown>) => void;
}

// The key Prisma's schema engine locks with on PostgreSQL, so this runner and a real
// `prisma migrate deploy` also wait for each other.
const ADVISORY_LOCK_KEY = 72707369;

// Exactly Prisma's table, so that `prisma migrate deploy` accepts what this runner recorded.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "_prisma_migrations_pkey" PRIMARY KEY ("id")
)`;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** The `<dir>/<name>/migration.sql` migrations, in name order (Prisma's order). */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name, 'migration.sql');
      const sql = await fs.readFile(file, 'utf8').catch((error: unknown) => {
        throw new Error(`Migration ${name} has no readable migration.sql (${file})`, { cause: error });
      });
      return { name, sql, checksum: checksumOf(sql) };
    }),
  );
}

// Prisma also accepts a checksum taken with the other line-ending style (git may convert them).
function checksumMatches(migration: Migration, recorded: string): boolean {
  const lf = migration.sql.replaceAll('\r\n', '\n');
  return [migration.checksum, checksumOf(lf), checksumOf(lf.replaceAll('\n', '\r\n'))].includes(recorded);
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/**
 * Applies the pending migrations of `migrationsDir`, each in its own transaction together with
 * its `_prisma_migrations` row. Holds a PostgreSQL advisory lock meanwhile, so concurrent
 * runners apply each migration once.
 */
export async function applyMigrations(
  session: SqlSession,
  options: MigrateOptions,
): Promise<{ applied: string[] }> {
  const log = options.log ?? (() => {});
  const migrations = await readMigrations(options.migrationsDir);

  await session.query(`SELECT pg_advisory_lock(${ADVISORY_LOCK_KEY})`);
  try {
    await session.exec(CREATE_MIGRATIONS_TABLE);
    const rows = await session.query<MigrationRow>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
        WHERE rolled_back_at IS NULL ORDER BY started_at`,
    );
    const recorded = new Map(rows.map((row) => [row.migration_name, row]));

    for (const row of rows) {
      if (row.finished_at === null) {
        throw new Error(
          `Migration ${row.migration_name} is recorded as failed in _prisma_migrations; ` +
            'fix the database and mark it with `prisma migrate resolve` before migrating again',
        );
      }
    }
    for (const migration of migrations) {
      const row = recorded.get(migration.name);
      if (row && !checksumMatches(migration, row.checksum)) {
        throw new Error(
          `Migration ${migration.name} was modified after it was applied ` +
            `(recorded checksum ${row.checksum}, file checksum ${migration.checksum}); ` +
            'restore the file and put changes in a new migration',
        );
      }
    }
    const known = new Set(migrations.map((m) => m.name));
    for (const row of rows) {
      if (!known.has(row.migration_name)) {
        log('migration recorded in the database is missing locally', { migration: row.migration_name });
      }
    }

    const applied: string[] = [];
    for (const migration of migrations) {
      if (recorded.has(migration.name)) continue;
      log('applying migration', { migration: migration.name });
      await applyOne(session, migration);
      applied.push(migration.name);
    }
    log(applied.length ? 'migrations applied' : 'no pending migrations', { applied });
    return { applied };
  } finally {
    await session.query(`SELECT pg_advisory_unlock(${ADVISORY_LOCK_KEY})`);
  }
}

async function applyOne(session: SqlSession, migration: Migration): Promise<void> {
  await session.exec('BEGIN');
  try {
    await session.exec(migration.sql);
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await session.exec('COMMIT');
  } catch (error) {
    await session.exec('ROLLBACK');
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${migration.name} failed and was rolled back: ${reason}`, { cause: error });
  }
}
