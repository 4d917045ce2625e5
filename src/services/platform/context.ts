import type { PrismaClient } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import type { EventBus } from '../../realtime/bus.js';
import type { RunQueue } from '../../realtime/run-queue.js';
import type { RunEndings } from '../../realtime/run-endings.js';
import type { ModelCatalog } from '../../agent/llm/catalog.js';
import type { ModelRegistry } from '../../agent/llm/providers.js';
import type { RetryPolicy } from '../../agent/llm/retry.js';
import type { RunEventSink } from '../../agent/run-types.js';
import type { RunContexts } from '../runs/run-contexts.js';
import type { RunStreams } from '../../realtime/run-streams.js';
import type { EmbedderRegistry } from '../../agent/embeddings/index.js';
import type { EnsurePassageIndex } from '../../db/vector-index.js';
import type { VectorMethod } from '../../db/vector-search.js';
import type { McpRuntime } from '../mcp/runtime.js';
import type { WorkerPool } from '../../workers/pool.js';
import type { RunTracing } from '../../observability/run-tracing.js';

/** What runs need beyond the database: models, the run queue, limits and live events. */
export interface Runtime {
  readonly models: ModelRegistry;
  /** The models of the configured providers, as their APIs list them. */
  readonly catalog: ModelCatalog;
  /** The shared run queue's worker in this process. */
  readonly queue: RunQueue;
  /** Callers here waiting for runs to end. */
  readonly endings: RunEndings;
  readonly llmTimeoutMs: number;
  /** Retries of rate-limited and overloaded model calls. */
  readonly llmRetry?: RetryPolicy;
  readonly defaultModel?: string;
  readonly events?: RunEventSink;
  /** Agents' context windows kept between runs (see services/runs/run-contexts.ts). */
  readonly contexts?: RunContexts;
  /** Stored run events, for runEvents subscribers. */
  readonly streams: RunStreams;
  /** How often a silent run's subscribers get a ping. */
  readonly pingMs: number;
  /** This server process, as recorded on the runs it queues and executes. */
  readonly instanceId: string;
  /** Embedding models by handle (archival memory and file passages). */
  readonly embeddings: EmbedderRegistry;
  /** pgvector where the database has it (PGlite), else exact cosine in SQL. */
  readonly vectorSearch: VectorMethod;
  /** Called before passages are written: indexes their embedding length if it is new (pgvector). */
  readonly ensurePassageIndex: EnsurePassageIndex;
  /** Background parsing and embedding of uploaded files. */
  readonly fileJobs: FileJobs;
  readonly maxUploadBytes: number;
  /** Worker threads for CPU-bound steps (parsing, chunking, local embedding, grep, agent files). */
  readonly pool: WorkerPool;
  /** How long one grep_files search may run in its worker before the model gets a tool error. */
  readonly grepTimeoutMs: number;
  /** Context window measurement, compaction and message search. */
  readonly context: ContextSettings;
  /** Connections to MCP servers and the operator's MCP settings. */
  readonly mcp: McpRuntime;
  /** Told about claimed runs, stored steps and ended runs (metrics). */
  readonly observer?: RunObserver;
  /** Spans of runs, steps, model and tool calls (observability/run-tracing.ts); absent: tracing off. */
  readonly tracing?: RunTracing;
  /** Runs started per minute (limits/rate-limits.ts); absent: no limit. */
  readonly runLimit?: { runStarted(orgId: string): Promise<void> };
}

export interface RunObserver {
  runClaimed(waitSeconds: number): void;
  stepCommitted(step: { model: string; provider: string; stepNs: bigint; llmRequestNs: bigint | null; promptTokens: number; completionTokens: number }): void;
  runEnded(status: string, stopReason: string, seconds: number): void;
}

export interface ContextSettings {
  /** For agents whose model settings name no context window. */
  readonly defaultContextWindow: number;
  readonly messageEmbeddings: boolean;
  /** How long a provider's token count endpoint may take before the tokenizer's count is used. */
  readonly providerQueryTimeoutMs: number;
}

/** What every use case receives: the caller's organization and the shared resources. */
export interface ServiceContext {
  readonly prisma: PrismaClient;
  readonly orgId: string;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly runtime: Runtime;
}

/** Background processing of uploaded files (see files/file-jobs.ts). */
export interface FileJobs {
  enqueue(fileId: string): void;
  /** Resolves when nothing is queued or running (tests, shutdown). */
  idle(): Promise<void>;
  /** Stops after the current file's current step; unfinished files are picked up by the next start. */
  close(): Promise<void>;
}
