import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * JSON logs on stdout, or on stderr for commands whose stdout is their result. On a terminal
 * (LOG_FORMAT=auto) they are printed readably by pino-pretty, in this process (synchronously,
 * so that nothing is lost at exit); LOG_FORMAT=json or pretty forces one or the other.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'> & Partial<Pick<Config, 'LOG_FORMAT'>>, to: 'stdout' | 'stderr' = 'stdout'): Logger {
  const fd = to === 'stdout' ? 1 : 2;
  const format = config.LOG_FORMAT ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && Boolean((to === 'stdout' ? process.stdout : process.stderr).isTTY));
  const options = { level: config.LOG_LEVEL, base: { service: 'agentgraph' } };
  if (!pretty) return pino(options, pino.destination(fd));
  return pino(options, prettyStream(fd));
}

const require = createRequire(import.meta.url);

function prettyStream(fd: number) {
  // pino-pretty's default export builds a stream; imported lazily so JSON deployments never load it.
  const build = require('pino-pretty') as (options: Record<string, unknown>) => NodeJS.WritableStream;
  return build({ destination: fd, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' });
}
