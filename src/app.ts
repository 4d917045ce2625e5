import { isLoopback, type Config } from './config.js';
import { openDatabase, type Database } from './db/client.js';
import type { Logger } from './logger.js';
import { createEventBus, type EventBus } from './realtime/bus.js';
import { ensureDefaultOrganization, type AuthPolicy } from './services/auth.js';
import { syncBuiltinToolsEverywhere } from './services/tools.js';

/** The long-lived resources of one server process, built once and passed down. */
export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly bus: EventBus;
  readonly authPolicy: AuthPolicy;
}

export function authPolicyFor(config: Pick<Config, 'AUTH_MODE' | 'HOST'>): AuthPolicy {
  if (config.AUTH_MODE === 'disabled') return 'disabled';
  if (config.AUTH_MODE === 'required') return 'required';
  return isLoopback(config.HOST) ? 'open-until-keys' : 'required';
}

const POLICY_LOG: Record<AuthPolicy, string> = {
  required: 'API keys required for every request',
  'open-until-keys': 'loopback: requests without a key use the default organization until an API key exists',
  disabled: 'auth disabled: requests without a key use the default organization',
};

export async function createAppContext(config: Config, logger: Logger): Promise<AppContext> {
  const db = await openDatabase(config, logger);
  try {
    await ensureDefaultOrganization(db.prisma);
    await syncBuiltinToolsEverywhere(db.prisma);
    const bus = await createEventBus(config.REDIS_URL, logger);
    const authPolicy = authPolicyFor(config);
    logger.info(
      { database: db.kind, bus: bus.kind, auth: authPolicy, host: config.HOST },
      `mode: ${db.kind === 'pglite' ? 'embedded' : 'services'} database, ${bus.kind} event bus; auth: ${POLICY_LOG[authPolicy]}`,
    );
    return { config, logger, db, bus, authPolicy };
  } catch (error) {
    await db.close();
    throw error;
  }
}

export async function closeAppContext(app: AppContext): Promise<void> {
  await Promise.allSettled([app.bus.close(), app.db.close()]);
}
