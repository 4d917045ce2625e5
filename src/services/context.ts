import type { PrismaClient } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { EventBus } from '../realtime/bus.js';

/** What every use case receives: the caller's organization and the shared resources. */
export interface ServiceContext {
  readonly prisma: PrismaClient;
  readonly orgId: string;
  readonly bus: EventBus;
  readonly logger: Logger;
}
