import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { isLoopback } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

/**
 * Who may read /metrics (docs/operations.md): with METRICS_TOKEN, callers sending it as a bearer
 * token; without one, anyone who can reach a loopback HOST or the separate METRICS_PORT.
 */
export function metricsAccess(config: Pick<Config, 'METRICS_TOKEN' | 'HOST'>, onSeparatePort: boolean) {
  return (req: http.IncomingMessage): 'ok' | 'unauthorized' | 'off' => {
    if (config.METRICS_TOKEN) {
      const sent = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const [a, b] = [Buffer.from(sent), Buffer.from(config.METRICS_TOKEN)];
      return a.length === b.length && timingSafeEqual(a, b) ? 'ok' : 'unauthorized';
    }
    return onSeparatePort || isLoopback(config.HOST) ? 'ok' : 'off';
  };
}

/** Answers a scrape: refreshes the gauges read on demand, then writes the text format. */
export async function serveMetrics(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  metrics: Metrics,
  access: ReturnType<typeof metricsAccess>,
  refresh: () => Promise<void>,
): Promise<void> {
  const allowed = access(req);
  if (allowed !== 'ok') {
    const message = allowed === 'off' ? 'Metrics on a non-loopback HOST need METRICS_TOKEN or METRICS_PORT' : 'Send the metrics token: Authorization: Bearer <METRICS_TOKEN>';
    res.writeHead(allowed === 'off' ? 404 : 401, { 'content-type': 'text/plain; charset=utf-8' });
    return void res.end(message);
  }
  await refresh();
  res.writeHead(200, { 'content-type': metrics.registry.contentType });
  res.end(await metrics.registry.metrics());
}

/** /metrics on its own port (METRICS_PORT), apart from the API. */
export async function startMetricsServer(config: Config, logger: Logger, metrics: Metrics, refresh: () => Promise<void>): Promise<http.Server> {
  const access = metricsAccess(config, true);
  const server = http.createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] !== METRICS_PATH) {
      res.writeHead(404);
      return void res.end();
    }
    serveMetrics(req, res, metrics, access, refresh).catch((error: unknown) => {
      logger.error({ err: error }, 'metrics scrape failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.METRICS_PORT, config.METRICS_HOST, () => resolve());
  });
  const address = server.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : config.METRICS_PORT, host: config.METRICS_HOST }, 'metrics served on their own port');
  return server;
}
