/**
 * One database session (a single connection) that runs raw SQL. The migration runner, the vector
 * index builder and PGlite's auto-analyze use it, so that they work the same on PGlite and on
 * PostgreSQL (searches themselves go through Prisma).
 */
export interface SqlSession {
  /** One parameterised statement; returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A script of several statements without parameters. */
  exec(sql: string): Promise<void>;
  /** Ends the session (returns the connection). */
  release(): Promise<void>;
}
