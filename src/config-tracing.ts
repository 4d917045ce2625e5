import { z } from 'zod';

/**
 * OpenTelemetry tracing settings (docs/operations.md, "Tracing"). The names are the standard
 * OTEL_* variables, read here like every other setting and handed to the SDK explicitly; only
 * OTLP over HTTP is supported (protobuf or JSON). Part of the one config schema in config.ts.
 */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const httpUrl = z.string().refine((text) => {
  try {
    return /^https?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}, 'must be an http:// or https:// URL');

/** `key1=value1,key2=value2` with percent-encoded values (W3C Baggage form), as OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS use. */
const keyValueList = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const entries: Record<string, string> = {};
    for (const item of text.split(',')) {
      if (!item.trim()) continue;
      const at = item.indexOf('=');
      const key = at > 0 ? item.slice(0, at).trim() : '';
      if (!key) {
        ctx.addIssue({ code: 'custom', message: 'must be a list of key=value pairs separated by commas' });
        return z.NEVER;
      }
      try {
        entries[key] = decodeURIComponent(item.slice(at + 1).trim());
      } catch {
        ctx.addIssue({ code: 'custom', message: `the value of ${key} is not valid percent-encoding` });
        return z.NEVER;
      }
    }
    return entries;
  });

const protocol = z.enum(['http/protobuf', 'http/json'], { error: 'must be http/protobuf or http/json (gRPC is not supported: point it at the collector\'s HTTP port, 4318)' });

export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

export const tracingConfigShape = {
  OTEL_TRACES_EXPORTER: z
    .enum(['none', 'otlp', 'console'])
    .default('none')
    .describe('none: tracing off (no SDK, no overhead); otlp: OTLP over HTTP to a collector; console: spans printed on stdout (debugging)'),
  OTEL_SDK_DISABLED: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .describe('true turns tracing off whatever OTEL_TRACES_EXPORTER says'),
  OTEL_SERVICE_NAME: optional(z.string().min(1)).describe('service.name of the spans; default: service.name of OTEL_RESOURCE_ATTRIBUTES, else agentgraph'),
  OTEL_RESOURCE_ATTRIBUTES: keyValueList.describe('extra resource attributes, e.g. deployment.environment.name=prod'),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.default('http://localhost:4318').describe('the collector\'s OTLP/HTTP base URL; traces go to <endpoint>/v1/traces'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional(httpUrl).describe('the full traces URL, used as is (wins over OTEL_EXPORTER_OTLP_ENDPOINT)'),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol.default('http/protobuf'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optional(protocol),
  OTEL_EXPORTER_OTLP_HEADERS: keyValueList.describe('headers sent to the collector, e.g. authorization=Bearer%20TOKEN'),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: keyValueList,
  OTEL_EXPORTER_OTLP_TIMEOUT: int(100, 600_000).default(10_000).describe('milliseconds one export may take'),
  OTEL_TRACES_SAMPLER: z.enum(SAMPLERS).default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: optional(z.coerce.number().min(0).max(1)).describe('the ratio of the traceidratio samplers (0 to 1; default 1)'),
  OTEL_PROPAGATORS: z
    .enum(['tracecontext', 'none'])
    .default('tracecontext')
    .describe('tracecontext: continue the trace of a request that carries a W3C traceparent header; none: every operation starts its own trace'),
  OTEL_BSP_SCHEDULE_DELAY: int(1, 600_000).default(5_000).describe('milliseconds between two exports of finished spans'),
  OTEL_BSP_MAX_QUEUE_SIZE: int(1, 1_000_000).default(2048).describe('finished spans kept for export; beyond it new spans are dropped (an unreachable collector never grows memory)'),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: int(1, 1_000_000).default(512),
  OTEL_BSP_EXPORT_TIMEOUT: int(100, 600_000).default(30_000),
};
