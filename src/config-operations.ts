import { z } from 'zod';

/**
 * The settings of running the server in the open: browser safety, rate limits, metrics, tracing
 * and logs (docs/operations.md). Part of the one config schema in config.ts.
 */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((value) => value === 'true');

/** `https://app.example.com,http://localhost:5173` → exact origins; `*` allows any origin (never with credentials). */
const origins = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const list = text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    for (const item of list) {
      if (item === '*') continue;
      let parsed: URL | undefined;
      try {
        parsed = new URL(item);
      } catch {
        parsed = undefined;
      }
      if (!parsed || parsed.origin !== item || !/^https?:$/.test(parsed.protocol)) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not an origin like https://app.example.com (scheme, host and port only, no trailing slash)` });
        return z.NEVER;
      }
    }
    return list;
  });

export const operationsConfigShape = {
  CORS_ORIGINS: origins.describe('origins of browser apps allowed to call the API; empty: only the server\'s own origin'),
  INTROSPECTION: flag('true').describe('answer introspection queries (to callers that pass the auth policy)'),
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(600).describe('requests per minute per API key, or per client address without a key; 0: no limit'),
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: int(0, 1_000_000).default(30).describe('requests with a wrong key per minute per client address; 0: no limit'),
  RATE_LIMIT_RUNS_PER_MINUTE: int(0, 1_000_000).default(60).describe('runs started per minute per API key (or client address); 0: no limit'),
  RATE_LIMIT_SUBSCRIPTIONS_PER_CONNECTION: int(0, 100_000).default(100).describe('subscriptions open at once on one graphql-ws connection; 0: no limit'),
  RATE_LIMIT_SUBSCRIPTIONS_PER_KEY: int(0, 1_000_000).default(1000).describe('subscriptions open at once per API key (or client address), all transports; 0: no limit'),
  TRUST_PROXY: flag('false').describe('take the client address from X-Forwarded-For (only behind a proxy that sets it)'),
  SSE_BUFFER_BYTES: int(1024, 1024 ** 3).default(4 * 1024 * 1024).describe('bytes an SSE client may leave unread before it is ended with SLOW_CONSUMER'),
  METRICS: flag('true').describe('serve Prometheus metrics at /metrics'),
  METRICS_PORT: z.preprocess((value) => (value === '' ? undefined : value), int(0, 65535).optional()).describe('serve /metrics on this port only (on METRICS_HOST), not on the API port'),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_TOKEN: z.preprocess((value) => (value === '' ? undefined : value), z.string().min(16).optional()).describe('bearer token /metrics requires'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto').describe('auto: pretty on a terminal, JSON otherwise'),
};
