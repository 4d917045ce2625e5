import pg from 'pg';
import type { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient } from './client.js';

/**
 * Raw SQL of the hottest statements (an agent step's), sent through `pg` on the client's own pool
 * instead of Prisma's `$queryRaw`, whose request pipeline, parameter and result conversion and
 * call-site capture cost several times the driver's CPU per statement.
 *
 * `sqlOf(db)` gives the direct path for a root client opened by `openDatabase` and Prisma's
 * `$queryRaw` for anything else, a transaction's client in particular: a statement inside an
 * interactive transaction must run on the transaction's connection (the embedded pool has only
 * one, which the transaction holds). Both paths return the same values for what the callers
 * select (int4, text, bool, json(b), timestamps, bigint); cast anything else to one of these.
 * Direct statements are counted with Prisma's in `db.statementCount()`.
 */
export type Sql = <Row>(strings: TemplateStringsArray, ...values: unknown[]) => Promise<Row[]>;

const direct = new WeakMap<object, Sql>();

/** The direct path for `prisma` over `pool` (the pool its adapter uses); returns its statement count. */
export function registerDirectSql(prisma: PrismaClient, pool: pg.Pool): () => number {
  let statements = 0;
  const cache = new WeakMap<TemplateStringsArray, string>();
  const sql: Sql = async <Row>(strings: TemplateStringsArray, ...values: unknown[]) => {
    let text = cache.get(strings);
    if (text === undefined) {
      text = strings.reduce((joined, part, index) => `${joined}$${index}${part}`);
      cache.set(strings, text);
    }
    statements += 1;
    const result = await pool.query({ text, values: values.map(toParameter), types: TYPES });
    return result.rows as Row[];
  };
  direct.set(prisma, sql);
  return () => statements;
}

/** The raw statements of `db`: direct for a registered root client, else through Prisma. */
export function sqlOf(db: PrismaClient | Prisma.TransactionClient): Sql {
  return direct.get(db) ?? (<Row>(strings: TemplateStringsArray, ...values: unknown[]) => db.$queryRaw<Row[]>(strings, ...values));
}

/** Dates as UTC (as Prisma sends them: a `timestamp` column stores UTC, whatever the process's zone). */
function toParameter(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

const TIMESTAMP = 1114;
const INT8 = 20;

/** As Prisma returns them: `timestamp` (without zone) as UTC, `int8` as bigint. */
const TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (format !== 'binary') {
      if (oid === TIMESTAMP) return (value: string) => new Date(`${value.replace(' ', 'T')}Z`);
      if (oid === INT8) return (value: string) => BigInt(value);
    }
    return pg.types.getTypeParser(oid, format as 'text');
  },
};
