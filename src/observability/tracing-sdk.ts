import type { IncomingHttpHeaders } from 'node:http';
import { context, defaultTextMapGetter, diag, DiagLogLevel, ROOT_CONTEXT, SpanKind, trace, type DiagLogger } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { getCurrentOtelContext, setCurrentOtelContext, useOpenTelemetry } from '@envelop/opentelemetry';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Config } from '../config.js';
import type { SAMPLERS } from '../config-tracing.js';
import type { Logger } from '../logger.js';
import { createRunTracing } from './run-tracing.js';
import type { Tracing } from './tracing.js';

/** The tracer provider, exporter and plugins of tracing that is on (loaded only then; see tracing.ts). */

export function tracesUrl(config: Pick<Config, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_EXPORTER_OTLP_ENDPOINT'>): string {
  return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}

function exporterOf(config: Config): SpanExporter {
  if (config.OTEL_TRACES_EXPORTER === 'console') return new ConsoleSpanExporter();
  const options = {
    url: tracesUrl(config),
    headers: { ...config.OTEL_EXPORTER_OTLP_HEADERS, ...config.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    timeoutMillis: config.OTEL_EXPORTER_OTLP_TIMEOUT,
  };
  const protocol = config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? config.OTEL_EXPORTER_OTLP_PROTOCOL;
  return protocol === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtobufExporter(options);
}

function samplerOf(name: (typeof SAMPLERS)[number], ratio = 1): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/**
 * The context manager (async context across awaits) and the SDK's diagnostics are process-wide;
 * they are registered while at least one server has tracing on.
 */
let globalUsers = 0;
function acquireGlobals(logger: Logger) {
  if (globalUsers++ > 0) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // Export failures (collector down or refusing) are logged, at warn: requests never wait for them.
  const log = (message: string, ...args: unknown[]) => logger.warn({ details: args.map(String) }, `tracing: ${message}`);
  const diagLogger: DiagLogger = { error: log, warn: log, info: () => {}, debug: () => {}, verbose: () => {} };
  diag.setLogger(diagLogger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}
function releaseGlobals() {
  if (--globalUsers > 0) return;
  context.disable();
  diag.disable();
}

const propagator = new W3CTraceContextPropagator();

/** The W3C trace headers of the request an operation came with (HTTP or SSE; graphql-ws operations have none). */
function incomingTraceHeaders(graphqlContext: unknown): Record<string, string> | undefined {
  const headers = (graphqlContext as { request?: { headers?: Headers | IncomingHttpHeaders } } | undefined)?.request?.headers;
  if (!headers) return undefined;
  const get = (name: string) => {
    const value = typeof headers.get === 'function' ? (headers as Headers).get(name) : (headers as IncomingHttpHeaders)[name];
    return Array.isArray(value) ? value.join(',') : (value ?? undefined);
  };
  const traceparent = get('traceparent');
  if (!traceparent) return undefined;
  const tracestate = get('tracestate');
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

const codeOf = (error: GraphQLError) => String(error.extensions?.code ?? 'UNKNOWN');

/**
 * Runs before @envelop/opentelemetry's hooks: continues an incoming trace, and masks errors
 * (idempotent, as yoga masks them again) so that the operation span records them with their
 * `extensions.code` and never an unmasked internal message.
 */
function useTracedOperations(maskError: (error: unknown) => Error, propagate: boolean): Plugin {
  const start = (graphqlContext: unknown) => {
    const headers = propagate ? incomingTraceHeaders(graphqlContext) : undefined;
    if (headers) setCurrentOtelContext(graphqlContext, propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
  };
  const finish = (graphqlContext: unknown) => (result: ExecutionResult, setResult: (result: ExecutionResult) => void) => {
    if (!result.errors?.length) return;
    const errors = result.errors.map((error) => maskError(error) as GraphQLError);
    setResult({ ...result, errors });
    trace.getSpan(getCurrentOtelContext(graphqlContext))?.setAttribute('graphql.error.codes', [...new Set(errors.map(codeOf))]);
  };
  /** The same for a query's result and a subscription's: each result (or each event's) finished. */
  const follow = (graphqlContext: unknown) => {
    start(graphqlContext);
    const done = finish(graphqlContext);
    return ({ result, setResult }: { result: ExecutionResult | AsyncIterable<ExecutionResult>; setResult: (result: ExecutionResult) => void }) => {
      if (isAsyncIterable(result)) return { onNext: ({ result: next, setResult: setNext }: { result: ExecutionResult; setResult: (result: ExecutionResult) => void }) => done(next, setNext) };
      done(result, setResult);
      return undefined;
    };
  };
  return {
    onExecute: ({ args }) => ({ onExecuteDone: follow(args.contextValue) }),
    onSubscribe: ({ args }) => ({ onSubscribeResult: follow(args.contextValue) }),
  };
}

export function createTracing(config: Config, logger: Logger, instanceId: string): Tracing {
  acquireGlobals(logger);
  const resource = defaultResource().merge(
    resourceFromAttributes({
      ...config.OTEL_RESOURCE_ATTRIBUTES,
      'service.name': config.OTEL_SERVICE_NAME ?? config.OTEL_RESOURCE_ATTRIBUTES['service.name'] ?? 'agentgraph',
      'service.instance.id': instanceId,
    }),
  );
  // Finished spans wait in a bounded queue and leave in batches: a slow or unreachable collector
  // drops spans past OTEL_BSP_MAX_QUEUE_SIZE and never delays a request.
  const processor = new BatchSpanProcessor(exporterOf(config), {
    scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY,
    maxQueueSize: config.OTEL_BSP_MAX_QUEUE_SIZE,
    maxExportBatchSize: Math.min(config.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, config.OTEL_BSP_MAX_QUEUE_SIZE),
    exportTimeoutMillis: config.OTEL_BSP_EXPORT_TIMEOUT,
  });
  const provider = new BasicTracerProvider({
    resource,
    sampler: samplerOf(config.OTEL_TRACES_SAMPLER, config.OTEL_TRACES_SAMPLER_ARG),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('agentgraph');
  logger.info(
    { exporter: config.OTEL_TRACES_EXPORTER, ...(config.OTEL_TRACES_EXPORTER === 'otlp' ? { url: tracesUrl(config) } : {}), sampler: config.OTEL_TRACES_SAMPLER },
    'tracing on',
  );
  let stopping: Promise<void> | undefined;
  return {
    runs: createRunTracing(tracer),
    plugins: (maskError) => [
      useTracedOperations(maskError, config.OTEL_PROPAGATORS === 'tracecontext'),
      // The operation's document is recorded only when it has no literal values (they go in variables, which are never recorded).
      useOpenTelemetry({ resolvers: false, variables: false, result: false }, provider, SpanKind.SERVER, {}, 'agentgraph') as Plugin,
    ],
    shutdown: () =>
      (stopping ??= (async () => {
        const bound = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.SHUTDOWN_TIMEOUT_MS).unref());
        const flushed = provider.shutdown().then(
          () => 'flushed' as const,
          (error: unknown) => {
            logger.warn({ err: error }, 'tracing: spans could not be exported at shutdown');
            return 'failed' as const;
          },
        );
        if ((await Promise.race([flushed, bound])) === 'timeout') logger.warn('tracing: exporting the last spans took too long; they are dropped');
        releaseGlobals();
      })()),
  };
}
