/**
 * CPU per statement of the two raw SQL paths of a step (src/db/direct-sql.ts): Prisma's
 * `$queryRaw` against `pg` directly, on the same pool, with the run's first statement (`beginRun`
 * with a kept context: a status and a version). Services mode only.
 *
 *   npx tsx bench/step-overhead/sql-paths.ts      (BENCH_DATABASE_URL as bench/step-overhead.ts)
 */
import { openDatabase } from '../../src/db/client.js';
import { beginRun } from '../../src/services/runs/run-contexts.js';
import { createLogger } from '../../src/logger.js';

const STATEMENTS = 3000;
const CALLERS = 20;

async function main() {
  const base = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const schema = `bench_sql_${Math.random().toString(16).slice(2, 10)}`;
  const db = await openDatabase({ DATABASE_URL: `${base}?schema=${schema}`, DATA_DIR: '' }, createLogger({ LOG_LEVEL: 'silent' }));
  try {
    const viaPrisma = { $queryRaw: db.prisma.$queryRaw.bind(db.prisma) } as unknown as typeof db.prisma;
    const paths = { prisma: viaPrisma, direct: db.prisma };
    for (let round = 0; round < 3; round++) {
      for (const [name, prisma] of Object.entries(paths)) {
        let left = STATEMENTS;
        const before = process.cpuUsage();
        const counted = db.statementCount();
        const started = performance.now();
        await Promise.all(Array.from({ length: CALLERS }, async () => {
          while (left-- > 0) await beginRun(prisma, 'run-none', 'agent-none', 1);
        }));
        const used = process.cpuUsage(before);
        const wall = performance.now() - started;
        console.log(`round ${round} ${name.padEnd(6)} ${((used.user + used.system) / STATEMENTS).toFixed(0).padStart(4)} µs CPU per statement, ${((1000 * wall) / STATEMENTS).toFixed(0)} µs wall, ${db.statementCount() - counted} counted`);
      }
    }
  } finally {
    const session = await db.session();
    await session.exec(`DROP SCHEMA "${schema}" CASCADE`).catch(() => undefined);
    await session.release();
    await db.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
