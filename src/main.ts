import { parseArgs } from 'node:util';
import { closeAppContext, createAppContext } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/client.js';
import { createLogger, type Logger } from './logger.js';
import { startServer } from './server.js';
import { ensureDefaultOrganization, findOrCreateOrganization, listApiKeys, mintApiKey, revokeApiKey } from './services/platform/auth.js';
import { AppError } from './errors.js';

const USAGE = `usage:
  agentgraph                                   serve the API (same as "serve")
  agentgraph keys create --org NAME [--name N] mint an API key for an organization (created if new); printed once
  agentgraph keys list --org NAME              list an organization's keys
  agentgraph keys revoke --org NAME --id ID    revoke a key
In embedded mode (no DATABASE_URL) stop the server before using "keys": PGlite allows one process.`;

async function serve(config: Config, logger: Logger) {
  const app = await createAppContext(config, logger);
  const server = await startServer(app);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    // A second guard in case something hangs beyond the server's own bounded shutdown.
    setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS + 5000).unref();
    await server.close();
    await closeAppContext(app);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function keys(config: Config, logger: Logger, argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { org: { type: 'string' }, name: { type: 'string' }, id: { type: 'string' } },
  });
  const action = positionals[0];
  if (!values.org || !['create', 'list', 'revoke'].includes(action ?? '')) throw new UsageError();
  const db = await openDatabase(config, logger);
  try {
    await ensureDefaultOrganization(db.prisma);
    const org = await findOrCreateOrganization(db.prisma, values.org);
    if (action === 'create') {
      const { apiKey, key } = await mintApiKey(db.prisma, org.id, values.name ?? 'cli');
      process.stdout.write(`organization: ${org.name} (${org.id})\nkey id: ${apiKey.id}\napi key (shown once): ${key}\n`);
    } else if (action === 'list') {
      for (const apiKey of await listApiKeys(db.prisma, org.id)) {
        process.stdout.write(`${apiKey.id}\t${apiKey.name}\t${apiKey.prefix}…\t${apiKey.revokedAt ? 'revoked' : 'active'}\n`);
      }
    } else {
      if (!values.id) throw new UsageError();
      await revokeApiKey(db.prisma, org.id, values.id);
      process.stdout.write(`revoked ${values.id}\n`);
    }
  } finally {
    await db.close();
  }
}

class UsageError extends Error {}

async function main() {
  const [command = 'serve', ...rest] = process.argv.slice(2);
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // The keys command prints its result on stdout, so its logs go to stderr.
  const logger = createLogger(config, command === 'keys' ? 'stderr' : 'stdout');
  try {
    if (command === 'serve') await serve(config, logger);
    else if (command === 'keys') await keys(config, logger, rest);
    else throw new UsageError();
  } catch (error) {
    if (error instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    else if (error instanceof AppError) process.stderr.write(`${error.message}\n`);
    else {
      logger.fatal({ err: error }, 'start-up failed');
      process.stderr.write(`start-up failed: ${(error as Error).message}\n`);
    }
    process.exit(1);
  }
}

await main();
