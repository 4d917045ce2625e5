import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type { SqlSession } from './sql-session.js';

/** A session on one pg connection. release() returns a pool client to its pool, or ends a plain Client. */
export function pgSession(client: pg.Client | pg.PoolClient): SqlSession {
  return {
    async query<Row>(sql: string, params?: unknown[]) {
      const result = await client.query(sql, params);
      return result.rows as Row[];
    },
    async exec(sql: string) {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await client.query(sql);
    },
    async release() {
      if ('release' in client) client.release();
      else await client.end();
    },
  };
}

/**
 * A session on a PGlite instance. PGlite has a single connection shared by all its users, and
 * release() leaves it open: the owner of the instance closes it.
 */
export function pgliteSession(db: PGlite): SqlSession {
  return {
    async query<Row>(sql: string, params?: unknown[]) {
      const result = await db.query<Row>(sql, params);
      return result.rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
    async release() {},
  };
}

/**
 * A session over a pool whose one connection everyone shares (the embedded database): each
 * statement takes the connection and gives it back, so holding this session blocks no one.
 */
export function sharedSession(pool: pg.Pool): SqlSession {
  return {
    async query<Row>(sql: string, params?: unknown[]) {
      const result = await pool.query(sql, params);
      return result.rows as Row[];
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async release() {},
  };
}
