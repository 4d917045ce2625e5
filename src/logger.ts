import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/** JSON logs on stdout, or on stderr for commands whose stdout is their result. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, to: 'stdout' | 'stderr' = 'stdout'): Logger {
  return pino({ level: config.LOG_LEVEL, base: { service: 'agentgraph' } }, pino.destination(to === 'stdout' ? 1 : 2));
}
