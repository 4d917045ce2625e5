import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { RunTracing } from './run-tracing.js';

/**
 * OpenTelemetry tracing, off by default (docs/operations.md, "Tracing"). Off, nothing of the SDK
 * is loaded or started and no plugin is added: the run code sees no tracer and calls straight
 * through. On, tracing-sdk.ts builds the tracer provider and exporter.
 */
export interface Tracing {
  /** Spans of runs, steps, model calls and tool calls (services/runs, the agent loop). */
  readonly runs: RunTracing;
  /** yoga plugins giving every operation a span; `maskError` gives errors their code before the span records them. */
  plugins(maskError: (error: unknown) => Error): Plugin[];
  /** Exports the spans still buffered (bounded in time) and stops; a collector that is down costs at most the bound. */
  shutdown(): Promise<void>;
}

export function tracingEnabled(config: Pick<Config, 'OTEL_TRACES_EXPORTER' | 'OTEL_SDK_DISABLED'>): boolean {
  return config.OTEL_TRACES_EXPORTER !== 'none' && !config.OTEL_SDK_DISABLED;
}

export async function startTracing(config: Config, logger: Logger, instanceId: string): Promise<Tracing | undefined> {
  if (!tracingEnabled(config)) return undefined;
  const { createTracing } = await import('./tracing-sdk.js');
  return createTracing(config, logger, instanceId);
}
