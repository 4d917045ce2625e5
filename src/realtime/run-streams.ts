import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { MemoryRunStreams } from './memory-run-streams.js';
import { RedisRunStreams } from './redis-run-streams.js';
import { DEFAULTS, type RunStreams, type RunStreamsOptions, type Settings } from './run-stream-types.js';

/**
 * The events of runs, kept for a while so that a subscriber can replay what it missed and then
 * continue live. Layout:
 *   run-stream-types.ts       the interface, options, errors;
 *   run-stream-subscriber.ts  one subscriber: replay in batches, then live, without gaps or repeats;
 *   memory-run-streams.ts     in process (embedded mode);
 *   redis-run-streams.ts      Redis Streams, shared by every instance (appends, replays, status);
 *   redis-run-reader.ts       the live reader of one run per process, and parsed events;
 *   backoff.ts                the retry delays of every Redis loop.
 */
export { RunAlreadyEnded, SubscriberOverflow } from './run-stream-types.js';
export type { RunStreams, RunStreamsOptions, RunStreamStatus, StoredRunEvent } from './run-stream-types.js';

/** Redis Streams when REDIS_URL is set (every instance sees every run), in process otherwise. */
export async function createRunStreams(redisUrl: string | undefined, logger: Logger, options: RunStreamsOptions = {}): Promise<RunStreams> {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const settings: Settings = { ...DEFAULTS, ...defined };
  settings.runningTtlSeconds = Math.max(settings.runningTtlSeconds, settings.ttlSeconds);
  settings.subscriberBufferLimit = Math.max(1, Math.floor(settings.subscriberBufferLimit));
  settings.maxLength = Math.max(1, Math.floor(settings.maxLength));
  const log = logger.child({ component: 'run-streams' });
  if (!redisUrl) return new MemoryRunStreams(settings, log);
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true, connectionName: 'agentgraph:run-streams' });
  client.on('error', (error: Error) => log.warn({ err: error.message }, 'redis connection error'));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`Cannot connect to Redis at REDIS_URL: ${(error as Error).message}`);
  }
  return new RedisRunStreams(client, settings, log);
}

/** Test hook: the runs this process has a live Redis reader for (always empty in memory). */
export function activeRunReaders(streams: RunStreams): string[] {
  return streams instanceof RedisRunStreams ? streams.activeReaders() : [];
}