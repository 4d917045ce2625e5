import type { Prisma } from '../../generated/prisma/client.js';
import type { PrismaClient } from '../../db/client.js';
import { assertId, notFound } from '../../errors.js';

/** A Prisma client or an interactive transaction, so helpers run inside the caller's transaction. */
export type Db = PrismaClient | Prisma.TransactionClient;

/** NOT_FOUND unless the agent exists in the organization (a foreign agent is simply not found). */
export async function assertAgentInOrg(db: Db, orgId: string, agentId: string, path = 'agentId'): Promise<void> {
  assertId('Agent', agentId, path);
  const agent = await db.agent.findFirst({ where: { id: agentId, organizationId: orgId }, select: { id: true } });
  if (!agent) throw notFound('Agent', agentId);
}
