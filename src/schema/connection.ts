import type { Page } from '../services/platform/pagination.js';
import { builder } from './builder.js';

/** The connection shape the schema's connections resolve from: Relay's, plus a lazy total. */
export interface CountedConnection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
}

/** A Relay connection of a service page whose rows are their own cursors (Letta's id cursors). */
export function connectionOf<T extends { id: string }>(page: Page<T>): CountedConnection<T> {
  return {
    edges: page.nodes.map((node) => ({ cursor: node.id, node })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.nodes[0]?.id ?? null,
      endCursor: page.nodes.at(-1)?.id ?? null,
    },
    totalCount: page.totalCount,
  };
}

/**
 * Names and shared fields of a connection and its edge: `<Node>Connection` with `totalCount`,
 * `<Node>Edge`. Pass the two to `t.connection(field, ...named('Agent', 'agents'))`.
 */
export function named(node: string, what: string) {
  return [
    {
      name: `${node}Connection`,
      description: `A page of ${what}, with the total across pages.`,
      fields: (t: PothosSchemaTypes.ObjectFieldBuilder<typeof builder.$inferSchemaTypes, object>) => ({
        totalCount: t.int({
          description: `How many ${what} the list holds across all pages (with the same filter).`,
          resolve: (connection) => (connection as CountedConnection<unknown>).totalCount(),
        }),
      }),
    },
    { name: `${node}Edge`, description: `One of the ${what}, with its cursor.` },
  ] as const;
}
