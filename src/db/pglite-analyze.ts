import type { Logger } from '../logger.js';
import { inBackground } from './embedded-pool.js';
import type { SqlSession } from './sql-session.js';

/**
 * PGlite runs no autovacuum, so without this its planner never has statistics and, for one, keeps
 * choosing a full scan over the vector index (it guesses that an agent owns a handful of rows).
 * This applies autovacuum's default analyze rule: a table is analyzed once more than
 * 50 + 10% of its rows changed since its last ANALYZE.
 */
export const AUTO_ANALYZE_INTERVAL_MS = 30_000;

export async function analyzeChangedTables(session: SqlSession, logger: Logger): Promise<string[]> {
  const tables = await session.query<{ name: string }>(
    `SELECT s.relname AS name FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.schemaname = current_schema() AND s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)`,
  );
  for (const { name } of tables) await session.exec(`ANALYZE "${name.replaceAll('"', '""')}"`);
  if (tables.length) logger.debug({ tables: tables.map((table) => table.name) }, 'analyzed changed tables');
  return tables.map((table) => table.name);
}

/** Runs analyzeChangedTables now (awaited: searches right after a restart have statistics) and then every AUTO_ANALYZE_INTERVAL_MS; the returned function stops it. */
export async function startAutoAnalyze(session: SqlSession, logger: Logger): Promise<() => Promise<void>> {
  // Requests go first on the one connection (embedded-pool.ts): ANALYZE of a large table takes a while.
  const analyze = () => inBackground(() => analyzeChangedTables(session, logger)).then(
    () => undefined,
    (error: unknown) => logger.warn({ err: error }, 'analyze failed'),
  );
  let running = analyze();
  await running;
  const timer = setInterval(() => {
    running = running.then(analyze);
  }, AUTO_ANALYZE_INTERVAL_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
