import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Plugin } from 'graphql-yoga';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Logger } from '../logger.js';

/**
 * Prometheus metrics of one server process (docs/operations.md lists them). One registry per
 * app, so that several servers in one process (the tests) do not share counters.
 */

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface StepObservation {
  model: string;
  provider: string;
  stepNs: bigint;
  llmRequestNs: bigint | null;
  promptTokens: number;
  completionTokens: number;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const m = {
    registry,
    operations: new Counter({ name: 'agentgraph_operations_total', help: 'GraphQL operations executed, by operation name and type', labelNames: ['operation', 'type'], registers: [registry] }),
    operationDuration: new Histogram({ name: 'agentgraph_operation_duration_seconds', help: 'Execution time of queries and mutations', labelNames: ['operation', 'type'], buckets: SECONDS, registers: [registry] }),
    errors: new Counter({ name: 'agentgraph_errors_total', help: 'Errors sent to clients, by extensions.code, operation name and transport (http, graphql-ws, sse)', labelNames: ['code', 'operation', 'transport'], registers: [registry] }),
    rejectedConnections: new Counter({ name: 'agentgraph_rejected_connections_total', help: 'graphql-ws connections and SSE streams refused before any operation, by transport and reason (an error code)', labelNames: ['transport', 'reason'], registers: [registry] }),
    rateLimited: new Counter({ name: 'agentgraph_rate_limited_total', help: 'Requests refused by a rate limit, by limit', labelNames: ['limit'], registers: [registry] }),
    connections: new Gauge({ name: 'agentgraph_open_connections', help: 'Open graphql-ws sockets and streamed HTTP responses (SSE)', labelNames: ['transport'], registers: [registry] }),
    subscriptions: new Gauge({ name: 'agentgraph_open_subscriptions', help: 'Subscriptions open over graphql-ws and SSE', labelNames: ['transport'], registers: [registry] }),
    runs: new Counter({ name: 'agentgraph_runs_total', help: 'Runs ended, by status and stop reason', labelNames: ['status', 'stop_reason'], registers: [registry] }),
    runDuration: new Histogram({ name: 'agentgraph_run_duration_seconds', help: 'Run execution time, from claim to end', buckets: SECONDS, registers: [registry] }),
    queueWait: new Histogram({ name: 'agentgraph_run_queue_wait_seconds', help: 'Time runs waited in the queue before an instance claimed them', buckets: SECONDS, registers: [registry] }),
    queueDepth: new Gauge({ name: 'agentgraph_run_queue_depth', help: 'Runs queued and not yet claimed (all instances)', registers: [registry] }),
    steps: new Histogram({ name: 'agentgraph_step_duration_seconds', help: 'Agent step time (model call, tools, storage)', labelNames: ['provider'], buckets: SECONDS, registers: [registry] }),
    modelLatency: new Histogram({ name: 'agentgraph_model_request_duration_seconds', help: 'Model request time per step', labelNames: ['provider', 'model'], buckets: SECONDS, registers: [registry] }),
    tokens: new Counter({ name: 'agentgraph_tokens_total', help: 'Model tokens, by provider and kind (prompt, completion)', labelNames: ['provider', 'kind'], registers: [registry] }),
    fileJobs: new Counter({ name: 'agentgraph_file_jobs_total', help: 'Uploaded files processed (parsed and embedded), by outcome', labelNames: ['outcome'], registers: [registry] }),
    fileJobDuration: new Histogram({ name: 'agentgraph_file_job_duration_seconds', help: 'Time to parse and embed one uploaded file', buckets: SECONDS, registers: [registry] }),
  };
  return {
    ...m,
    stepCommitted(step: StepObservation) {
      m.steps.observe({ provider: step.provider }, Number(step.stepNs) / 1e9);
      if (step.llmRequestNs !== null) m.modelLatency.observe({ provider: step.provider, model: step.model }, Number(step.llmRequestNs) / 1e9);
      m.tokens.inc({ provider: step.provider, kind: 'prompt' }, step.promptTokens);
      m.tokens.inc({ provider: step.provider, kind: 'completion' }, step.completionTokens);
    },
    runEnded(status: string, stopReason: string, seconds: number) {
      m.runs.inc({ status, stop_reason: stopReason });
      m.runDuration.observe(seconds);
    },
    runClaimed(waitSeconds: number) {
      m.queueWait.observe(Math.max(0, waitSeconds));
    },
    fileJob(outcome: 'completed' | 'failed', seconds: number) {
      m.fileJobs.inc({ outcome });
      m.fileJobDuration.observe(seconds);
    },
  };
}

function operationOf(document: DocumentNode | undefined, name: string | null | undefined) {
  if (!document) return { operation: name || 'anonymous', type: 'unknown' };
  const ast = getOperationAST(document, name);
  return { operation: ast?.name?.value ?? name ?? 'anonymous', type: ast?.operation ?? 'unknown' };
}

/** Client errors are expected: logged at info (warn for refusals), never at error. */
const WARN_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED']);

/** The name of the first operation in a document's text (`query Name {`), without parsing it. */
const FIRST_OPERATION_NAME = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

/** The operation a request names, or the first one of its query text. */
export function requestedOperation(params: { operationName?: string | null; query?: unknown } | undefined): string | undefined {
  return params?.operationName ?? (typeof params?.query === 'string' ? FIRST_OPERATION_NAME.exec(params.query)?.[1] : undefined);
}

type SentError = { readonly extensions?: { readonly [key: string]: unknown }; readonly message?: string };

/** Counts and logs the errors one result sends a client (every transport). */
export function countClientErrors(metrics: Metrics, logger: Logger, transport: 'http' | 'graphql-ws' | 'sse', operation: string | undefined, errors: ReadonlyArray<SentError> | undefined) {
  for (const error of errors ?? []) {
    const code = String(error.extensions?.code ?? 'UNKNOWN');
    const name = operation ?? 'anonymous';
    metrics.errors.inc({ code, operation: name, transport });
    if (code === 'INTERNAL') continue;
    logger[WARN_CODES.has(code) ? 'warn' : 'info']({ code, operation: name, transport, error: error.message }, `client error ${code} in ${name}`);
  }
}

/**
 * Operation counts and durations (every transport); error codes of HTTP results, counted and
 * logged with their operation (unexpected errors are logged with their stack by the masker).
 * graphql-ws and SSE count the errors they send with countClientErrors.
 */
export function useOperationMetrics(metrics: Metrics, logger: Logger): Plugin {
  const names = new WeakMap<Request, string>();
  return {
    onParams({ params, request }) {
      // Named here too, for operations refused before execution (validation, cost limit).
      const name = requestedOperation(params);
      if (name) names.set(request, name);
    },
    onExecute({ args }) {
      const labels = operationOf(args.document, args.operationName);
      const request = (args.contextValue as { request?: Request } | undefined)?.request;
      if (request) names.set(request, labels.operation);
      metrics.operations.inc(labels);
      const end = metrics.operationDuration.startTimer(labels);
      return { onExecuteDone: () => void end() };
    },
    onSubscribe({ args }) {
      metrics.operations.inc(operationOf(args.document, args.operationName));
    },
    onResultProcess({ request, result }) {
      const results = Array.isArray(result) ? result : [result];
      for (const single of results) {
        countClientErrors(metrics, logger, 'http', names.get(request), (single as { errors?: ReadonlyArray<SentError> } | undefined)?.errors);
      }
    },
  };
}

/** A subscription hold that also counts the subscription as open while it is. */
export function countedHold(metrics: Metrics, transport: 'graphql-ws' | 'sse', hold: () => Promise<() => void>): () => Promise<() => void> {
  return async () => {
    const release = await hold();
    metrics.subscriptions.inc({ transport });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      metrics.subscriptions.dec({ transport });
      release();
    };
  };
}
