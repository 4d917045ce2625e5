import { randomUUID } from 'node:crypto';
import { isLoopback, secretsKeyBytes, type Config } from './config.js';
import { openDatabase, type Database } from './db/client.js';
import type { Logger } from './logger.js';
import { createEventBus, type EventBus } from './realtime/bus.js';
import { RunEndings } from './realtime/run-endings.js';
import { claimNextRun } from './db/run-claims.js';
import { executeRun } from './services/runs/runs.js';
import { ensureDefaultOrganization, type AuthPolicy } from './services/platform/auth.js';
import { syncBuiltinToolsEverywhere } from './services/tools/tools.js';
import { createModelCatalog } from './agent/llm/catalog.js';
import { createModelRegistry, providerEntries } from './agent/llm/providers.js';
import { RunQueue } from './realtime/run-queue.js';
import { createRunStreams } from './realtime/run-streams.js';
import { createRunEventRecorder } from './services/runs/run-events.js';
import { RunContexts } from './services/runs/run-contexts.js';
import { startRunLiveness } from './services/runs/run-liveness.js';
import type { Runtime } from './services/platform/context.js';
import { createEmbedderRegistry, type EmbedderRegistry } from './agent/embeddings/index.js';
import { createFileJobs } from './services/files/file-jobs.js';
import { createMcpRuntime } from './services/mcp/runtime.js';
import { listAndStoreTools } from './services/mcp/mcp-servers.js';
import { createWorkerPool, type WorkerPool } from './workers/pool.js';
import { createRateLimits, type RateLimits } from './limits/rate-limits.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { startTracing, type Tracing } from './observability/tracing.js';

/** The long-lived resources of one server process, built once and passed down. */
export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly bus: EventBus;
  readonly authPolicy: AuthPolicy;
  readonly runtime: Runtime;
  readonly limits: RateLimits;
  readonly metrics: Metrics;
  /** OpenTelemetry tracing; absent when off. */
  readonly tracing?: Tracing;
  /** Stops background listeners. */
  readonly stop: () => unknown;
}

/** Runs every event of a bus subscription through `handle` until the subscription is closed. */
function listen<T>(events: AsyncIterableIterator<T>, logger: Logger, handle: (event: T) => void) {
  void (async () => {
    try {
      for await (const event of events) handle(event);
    } catch (error) {
      logger.error({ err: error }, 'bus listener stopped');
    }
  })();
  return events;
}

export function authPolicyFor(config: Pick<Config, 'AUTH_MODE' | 'HOST'>): AuthPolicy {
  if (config.AUTH_MODE === 'disabled') return 'disabled';
  if (config.AUTH_MODE === 'required') return 'required';
  return isLoopback(config.HOST) ? 'open-until-keys' : 'required';
}

/** MCP URLs may reach loopback and private networks where the operator allows it; by default only on a loopback server (development). */
export function mcpAllowsPrivate(config: Pick<Config, 'MCP_ALLOW_PRIVATE_NETWORKS' | 'HOST'>): boolean {
  if (config.MCP_ALLOW_PRIVATE_NETWORKS === 'allow') return true;
  if (config.MCP_ALLOW_PRIVATE_NETWORKS === 'deny') return false;
  return isLoopback(config.HOST);
}

const POLICY_LOG: Record<AuthPolicy, string> = {
  required: 'API keys required for every request',
  'open-until-keys': 'loopback: requests without a key use the default organization until an API key exists',
  disabled: 'auth disabled: requests without a key use the default organization',
};

/**
 * The default embedding's passages are indexed from the start (PGlite), not at their first write,
 * when the table may already be large. A default naming no configured provider fails where it is
 * used, as before.
 */
async function indexDefaultEmbedding(db: Database, embeddings: EmbedderRegistry) {
  let dimensions: number | null;
  try {
    dimensions = embeddings.resolve(undefined).dimensions;
  } catch {
    return;
  }
  if (dimensions) await db.ensurePassageIndex(dimensions);
}

export async function createAppContext(config: Config, logger: Logger): Promise<AppContext> {
  const db = await openDatabase(config, logger);
  let pool: WorkerPool | undefined;
  let tracing: Tracing | undefined;
  try {
    await ensureDefaultOrganization(db.prisma);
    await syncBuiltinToolsEverywhere(db.prisma);
    const bus = await createEventBus(config.REDIS_URL, logger, config.REDIS_PREFIX);
    const authPolicy = authPolicyFor(config);
    logger.info(
      { database: db.kind, bus: bus.kind, auth: authPolicy, host: config.HOST },
      `mode: ${db.kind === 'pglite' ? 'embedded' : 'services'} database, ${bus.kind} event bus; auth: ${POLICY_LOG[authPolicy]}`,
    );
    const models = createModelRegistry(providerEntries(config));
    const catalog = createModelCatalog(models.entries, { timeoutMs: config.PROVIDER_QUERY_TIMEOUT_MS });
    logger.info({ providers: models.providers, defaultModel: config.DEFAULT_MODEL ?? null }, 'model providers');
    pool = createWorkerPool({ threads: config.WORKER_THREADS, queueLimit: config.WORKER_QUEUE_LIMIT });
    const workers = pool;
    const embeddings = createEmbedderRegistry(providerEntries(config), config.DEFAULT_EMBEDDING, {
      localOffThread: (texts, dimensions, signal) => workers.run('embed.local', { texts, dimensions }, { signal }),
    });
    await indexDefaultEmbedding(db, embeddings);
    const metrics = createMetrics();
    const fileJobs = createFileJobs(
      { prisma: db.prisma, bus, embeddings, ensurePassageIndex: db.ensurePassageIndex, passageRowsPerStatement: db.passageRowsPerStatement, logger, staleMs: config.FILE_PROCESSING_STALE_MS, pool: workers, observe: metrics.fileJob },
      { recoverAll: db.kind === 'pglite' },
    );
    const streams = await createRunStreams(config.REDIS_URL, logger, {
      ttlSeconds: config.RUN_EVENT_TTL_SECONDS,
      subscriberBufferLimit: config.RUN_EVENT_BUFFER_LIMIT,
      keyPrefix: `${config.REDIS_PREFIX}run:`,
    });
    const mcp = createMcpRuntime(
      db.prisma,
      {
        secretsKey: config.SECRETS_KEY ? secretsKeyBytes(config.SECRETS_KEY) : undefined,
        toolTimeoutMs: config.MCP_TOOL_TIMEOUT_MS,
        connectTimeoutMs: config.MCP_CONNECT_TIMEOUT_MS,
        allowPrivate: mcpAllowsPrivate(config),
        stdioEnabled: config.MCP_STDIO === 'enabled',
        maxConnections: config.MCP_MAX_CONNECTIONS,
        idleMs: config.MCP_IDLE_MS,
        maxTools: config.MCP_MAX_TOOLS_PER_SERVER,
      },
      logger,
      (runtime, serverId) => listAndStoreTools(db.prisma, runtime, serverId),
    );
    const instanceId = randomUUID();
    tracing = await startTracing(config, logger, instanceId);
    const runTracing = tracing?.runs;
    const limits = createRateLimits(config, logger, (limit) => metrics.rateLimited.inc({ limit }));
    const queue: RunQueue = new RunQueue({
      concurrency: config.RUN_WORKERS,
      pollMs: config.RUN_QUEUE_POLL_MS,
      claim: () => claimNextRun(db.prisma, instanceId),
      execute: (run, signal) => {
        const execute = () => executeRun({ prisma: db.prisma, orgId: run.organizationId, bus, logger, runtime }, run, signal);
        return runTracing ? runTracing.detached(execute) : execute();
      },
      logger,
    });
    const runtime: Runtime = {
      models,
      catalog,
      queue,
      endings: new RunEndings(config.RUN_QUEUE_POLL_MS),
      llmTimeoutMs: config.LLM_TIMEOUT_MS,
      llmRetry: { maxRetries: config.LLM_MAX_RETRIES, retryAfterMaxMs: config.LLM_RETRY_AFTER_MAX_MS },
      defaultModel: config.DEFAULT_MODEL,
      streams,
      events: createRunEventRecorder(db.prisma, streams, logger),
      contexts: new RunContexts(),
      pingMs: config.RUN_EVENT_PING_MS,
      instanceId,
      embeddings,
      vectorSearch: db.hasVector ? 'pgvector' : 'exact',
      ensurePassageIndex: db.ensurePassageIndex,
      fileJobs,
      runLimit: limits,
      observer: metrics,
      tracing: runTracing,
      maxUploadBytes: config.MAX_UPLOAD_BYTES,
      pool: workers,
      grepTimeoutMs: config.GREP_TIMEOUT_MS,
      context: {
        defaultContextWindow: config.DEFAULT_CONTEXT_WINDOW,
        messageEmbeddings: config.MESSAGE_EMBEDDINGS === 'local',
        providerQueryTimeoutMs: config.PROVIDER_QUERY_TIMEOUT_MS,
      },
      mcp,
    };
    const listeners = [
      // A run cancelled on another instance is aborted here if it executes here.
      listen(bus.pubsub.subscribe('runCancelled'), logger, ({ runId }) => queue.abort(runId)),
      // This instance's own runs were claimed for already (see `from`).
      listen(bus.pubsub.subscribe('runQueued'), logger, ({ from }) => {
        if (from !== instanceId) queue.notify();
      }),
      listen(bus.pubsub.subscribe('runEnded'), logger, ({ runId, from }) => {
        runtime.endings.ended(runId);
        if (from !== instanceId) queue.notify('ended');
      }),
    ];
    queue.notify(); // runs queued while no instance was up
    const stopLiveness = startRunLiveness({ prisma: db.prisma, bus, runtime, logger }, { heartbeatMs: config.RUN_HEARTBEAT_MS, staleMs: config.RUN_STALE_AFTER_MS });
    const stop = async () => {
      await Promise.all(listeners.map((events) => events.return?.()));
      await stopLiveness();
      await fileJobs.close();
      await limits.close();
      await mcp.connections.closeAll();
    };
    return { config, logger, db, bus, authPolicy, runtime, limits, metrics, tracing, stop };
  } catch (error) {
    await tracing?.shutdown();
    await pool?.close();
    await db.close();
    throw error;
  }
}

export async function closeAppContext(app: AppContext): Promise<void> {
  await app.stop();
  await app.runtime.queue.drain();
  // After the runs: their spans end, then the last ones are exported.
  await app.tracing?.shutdown();
  await app.runtime.pool.close();
  await Promise.allSettled([app.bus.close(), app.runtime.streams.close(), app.db.close()]);
}
