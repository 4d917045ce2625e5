import { Prisma } from '../generated/prisma/client.js';

/** The write hit a unique constraint (two records with one name, label…): the caller says which, as CONFLICT. */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/** SQLSTATEs of a connection that is gone: admin shutdown / crash / cannot connect now, and class 08. */
const LOST_STATES = new Set(['57P01', '57P02', '57P03']);
/** Prisma's codes for an unreachable server, a closed connection and a pool that gave none in time. */
const LOST_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2024']);
const LOST_MESSAGE = /connection terminated|connection (was )?(closed|lost|reset)|ECONNRESET|ECONNREFUSED|EPIPE|server closed the connection|terminating connection/i;

/**
 * The database connection (or the transaction on it) was lost: a failover, a pooler restart, an
 * administrator terminating backends. Worth retrying on a new connection; not the caller's fault.
 */
export function isConnectionLost(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const item = current as { code?: unknown; originalCode?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    for (const code of [item.code, item.originalCode]) {
      if (typeof code !== 'string') continue;
      if (LOST_STATES.has(code) || LOST_PRISMA_CODES.has(code) || /^08/.test(code)) return true;
    }
    if (typeof item.message === 'string' && LOST_MESSAGE.test(item.message)) return true;
    current = item.meta?.driverAdapterError ?? item.cause;
  }
  return false;
}

/**
 * Runs `work`, and again on a new connection while the connection is lost, after each of `delaysMs`
 * (`onRetry` is told first). Other failures, and the last loss, are thrown. Only for work that is
 * safe to repeat: one transaction, which a lost connection rolls back.
 */
export async function retryOnConnectionLoss<T>(work: () => Promise<T>, delaysMs: readonly number[], onRetry: (error: unknown, delayMs: number) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const delay = delaysMs[attempt];
      if (delay === undefined || !isConnectionLost(error)) throw error;
      onRetry(error, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
