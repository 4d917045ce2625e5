import { z } from 'zod';
import { providerEntrySchema } from './config-providers.js';
import { operationsConfigShape } from './config-operations.js';
import { tracingConfigShape } from './config-tracing.js';

/**
 * Every environment variable the server reads, parsed once. Nothing else reads process.env.
 * `.env.example` lists the same variables with their defaults.
 */
const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const configSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(4000),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  DATA_DIR: z.string().min(1).default('./data'),
  REDIS_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
  ),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1 to 64 letters, digits or : _ . -')
    .default('agentgraph:')
    .describe('prefix of every Redis key and channel: deployments sharing one Redis use different prefixes'),
  AUTH_MODE: z
    .enum(['auto', 'required', 'disabled'])
    .default('auto')
    .describe('auto: keys optional on loopback until one exists; required: always; disabled: never'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  MAX_BODY_BYTES: int(1024, 1024 ** 3).default(2 * 1024 * 1024),
  MAX_QUERY_DEPTH: int(2, 100).default(15),
  MAX_QUERY_TOKENS: int(100, 1_000_000).default(5000),
  MAX_QUERY_ALIASES: int(1, 1000).default(30),
  MAX_QUERY_COST: int(100, 100_000_000)
    .default(50_000)
    .describe('the largest cost an operation may have: each field costs 1, and what a list selects counts once per item it may return (first/last, or the default page)'),
  QUERY_TIMEOUT_MS: int(100, 3_600_000).default(30_000).describe('a query (not a mutation or subscription) still running after this ends with QUERY_TIMEOUT'),
  MAX_RESPONSE_BYTES: int(1024, 1024 ** 3).default(32 * 1024 * 1024).describe('a query or mutation result larger than this (as JSON, approximately) is replaced by RESPONSE_TOO_LARGE'),
  DEFAULT_MODEL: z.preprocess(
    emptyToUndefined,
    z.string().regex(/^[^/\s]+\/\S+$/, "must be a handle 'provider/model'").optional(),
  ),
  OPENAI_API_KEY: z.preprocess(emptyToUndefined, z.string().optional()),
  OPENAI_BASE_URL: z.string().url().default('https://api.openai.com/v1'),
  ANTHROPIC_API_KEY: z.preprocess(emptyToUndefined, z.string().optional()),
  ANTHROPIC_BASE_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  GEMINI_API_KEY: z.preprocess(emptyToUndefined, z.string().optional()),
  LLM_PROVIDERS: z
    .preprocess(emptyToUndefined, z.string().default('[]'))
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array' });
        return z.NEVER;
      }
    })
    .pipe(z.array(providerEntrySchema).max(100)),
  LLM_MAX_RETRIES: int(0, 10).default(2),
  LLM_RETRY_AFTER_MAX_MS: int(0, 600_000).default(20_000),
  PROVIDER_QUERY_TIMEOUT_MS: int(100, 120_000).default(5_000),
  DEFAULT_EMBEDDING: z
    .string()
    .regex(/^[^/\s]+\/\S+$/, "must be a handle 'provider/model'")
    .default('local/hashed-ngram'),
  MAX_UPLOAD_BYTES: int(1, 1024 ** 3).default(10 * 1024 * 1024),
  WORKER_THREADS: int(0, 256)
    .default(0)
    .describe('worker threads for CPU-bound work (file parsing, chunking, local embedding, grep, agent files); 0: cores - 1, at least 1'),
  WORKER_QUEUE_LIMIT: int(1, 1_000_000)
    .default(1000)
    .describe('tasks that may wait for a worker thread; beyond it work is refused with UNAVAILABLE'),
  GREP_TIMEOUT_MS: int(10, 600_000).default(10_000).describe('deadline of one grep_files search; past it the model gets a tool error'),
  FILE_PROCESSING_STALE_MS: int(1000, 24 * 3600_000).default(120_000),
  LLM_TIMEOUT_MS: int(100, 3_600_000).default(120_000),
  DEFAULT_CONTEXT_WINDOW: int(1000, 10_000_000).default(128_000),
  MESSAGE_EMBEDDINGS: z
    .enum(['local', 'off'])
    .default('local')
    .describe('local: embed messages with the built-in hashed n-gram embedder for VECTOR/HYBRID search; off: full-text search only'),
  RUN_EVENT_PING_MS: int(100, 600_000).default(15_000),
  RUN_EVENT_TTL_SECONDS: int(1, 30 * 24 * 3600).default(3 * 3600),
  RUN_EVENT_BUFFER_LIMIT: int(1, 1_000_000).default(10_000),
  WS_KEEPALIVE_MS: int(1_000, 3_600_000).default(12_000),
  RUN_HEARTBEAT_MS: int(50, 600_000).default(5_000),
  RUN_STALE_AFTER_MS: int(100, 3_600_000).default(30_000),
  RUN_WORKERS: int(0, 1000).default(16),
  RUN_QUEUE_POLL_MS: int(10, 600_000).default(1_000),
  MCP_STDIO: z
    .enum(['enabled', 'disabled'])
    .default('disabled')
    .describe('enabled: MCP servers may be stdio commands this server spawns (single-tenant self-hosting only)'),
  MCP_ALLOW_PRIVATE_NETWORKS: z
    .enum(['auto', 'allow', 'deny'])
    .default('auto')
    .describe('whether MCP server URLs may reach loopback/private/link-local addresses; auto: allow only when HOST is loopback'),
  MCP_TOOL_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  MCP_CONNECT_TIMEOUT_MS: int(100, 600_000).default(10_000),
  MCP_MAX_CONNECTIONS: int(1, 10_000).default(64),
  MCP_IDLE_MS: int(1_000, 24 * 3600_000).default(300_000),
  MCP_MAX_TOOLS_PER_SERVER: int(1, 10_000).default(200),
  SECRETS_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((text) => secretsKeyBytes(text) !== undefined, 'must be 32 bytes as 64 hex digits or base64')
      .optional(),
  ),
  GRAPHIQL: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
  ...operationsConfigShape,
  ...tracingConfigShape,
});

export type Config = z.infer<typeof configSchema>;

/** The variable names, for tooling that checks `.env.example`. */
export const CONFIG_VARIABLES = Object.keys(configSchema.shape);

export class ConfigError extends Error {}

/** Parses an environment; a bad value throws one line naming the variable and the problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = configSchema.safeParse(env);
  if (result.success) {
    if (result.data.RUN_WORKERS === 0 && !result.data.DATABASE_URL) {
      throw new ConfigError('Invalid configuration: RUN_WORKERS: 0 needs DATABASE_URL (with an embedded database this process is the only one that can execute runs)');
    }
    return result.data;
  }
  const issue = result.error.issues[0]!;
  throw new ConfigError(`Invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
}

/** The 32 bytes of a SECRETS_KEY given as 64 hex digits or base64, or undefined when it is neither. */
export function secretsKeyBytes(text: string): Buffer | undefined {
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : /^[A-Za-z0-9+/]{43}=?$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  return bytes?.length === 32 ? bytes : undefined;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
