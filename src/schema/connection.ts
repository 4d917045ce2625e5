import type { Page } from '../services/platform/pagination.js';

/** A Relay connection of a service page whose rows are their own cursors (Letta's id cursors). */
export function connectionOf<T extends { id: string }>(page: Page<T>) {
  return {
    edges: page.nodes.map((node) => ({ cursor: node.id, node })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.nodes[0]?.id ?? null,
      endCursor: page.nodes.at(-1)?.id ?? null,
    },
  };
}
