import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Rate limits (docs/operations.md). Counted in Redis when the server has one, so that they hold
 * across instances; in memory otherwise. Each limit with 0 points is off.
 *   - requests: per minute per subject (an API key, or the client address without one);
 *   - authFailures: requests with a wrong key, per minute per client address;
 *   - runs: runs started per minute per organization;
 *   - subscriptions: open at once per subject (a counter: +1 at open, -1 at end; a subscription
 *     of an instance that died stops counting after SUBSCRIPTION_COUNT_TTL_S).
 */

export interface RateLimitSettings {
  RATE_LIMIT_PER_MINUTE: number;
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: number;
  RATE_LIMIT_RUNS_PER_MINUTE: number;
  RATE_LIMIT_SUBSCRIPTIONS_PER_KEY: number;
  REDIS_URL?: string;
  REDIS_PREFIX: string;
}

const SUBSCRIPTION_COUNT_TTL_S = 24 * 3600;

type Limit = 'requests' | 'authFailures' | 'runs' | 'subscriptions';

const MESSAGES: Record<Limit, string> = {
  requests: 'Too many requests',
  authFailures: 'Too many requests with a wrong API key from this address',
  runs: 'Too many runs started',
  subscriptions: 'Too many subscriptions open',
};

export class RateLimitedError extends AppError {
  constructor(
    readonly limit: Limit,
    readonly retryAfterSeconds: number,
  ) {
    super('RATE_LIMITED', `${MESSAGES[limit]}; retry after ${retryAfterSeconds} s`, { limit, retryAfterSeconds });
  }
}

export interface RateLimits {
  /** One request (HTTP request, or operation over a socket) of `subject`; throws RateLimitedError. */
  request(subject: string): Promise<void>;
  /** Throws RateLimitedError while the address has used up its wrong-key attempts. */
  checkAuthFailures(address: string): Promise<void>;
  /** Counts a wrong key from the address; throws RateLimitedError once over the limit. */
  authFailed(address: string): Promise<void>;
  /** One run started by the organization. */
  runStarted(orgId: string): Promise<void>;
  /** Takes one of the subject's subscription slots; the returned function gives it back. */
  openSubscription(subject: string): Promise<() => void>;
  close(): Promise<void>;
}

/** The subject of a caller's limits: the key it sends (hashed), or its address. */
export const subjectOf = (token: string | undefined, address: string | undefined) =>
  token ? `key:${createHash('sha256').update(token).digest('hex').slice(0, 32)}` : `ip:${address ?? 'unknown'}`;

function retryAfter(res: unknown): number {
  return res instanceof RateLimiterRes ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 1;
}

export function createRateLimits(settings: RateLimitSettings, logger: Logger, onRejected: (limit: Limit) => void = () => {}): RateLimits {
  const redis = settings.REDIS_URL ? new Redis(settings.REDIS_URL, { maxRetriesPerRequest: 3, enableOfflineQueue: true }) : undefined;
  redis?.on('error', (error) => logger.warn({ err: error }, 'rate limit store: Redis error'));
  const make = (name: Limit, points: number, duration: number): RateLimiterAbstract | undefined => {
    if (points <= 0) return undefined;
    const options = { keyPrefix: `${settings.REDIS_PREFIX}rl:${name}`, points, duration };
    return redis ? new RateLimiterRedis({ ...options, storeClient: redis }) : new RateLimiterMemory(options);
  };
  const limiters = {
    requests: make('requests', settings.RATE_LIMIT_PER_MINUTE, 60),
    authFailures: make('authFailures', settings.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE, 60),
    runs: make('runs', settings.RATE_LIMIT_RUNS_PER_MINUTE, 60),
    subscriptions: make('subscriptions', settings.RATE_LIMIT_SUBSCRIPTIONS_PER_KEY, SUBSCRIPTION_COUNT_TTL_S),
  };

  async function consume(limit: Limit, key: string): Promise<void> {
    const limiter = limiters[limit];
    if (!limiter) return;
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        // The store failed (Redis down): serve rather than refuse everyone.
        logger.warn({ err: rejection, limit }, 'rate limit store unavailable; request allowed');
        return;
      }
      onRejected(limit);
      throw new RateLimitedError(limit, retryAfter(rejection));
    }
  }

  return {
    request: (subject) => consume('requests', subject),
    runStarted: (orgId) => consume('runs', orgId),
    authFailed: (address) => consume('authFailures', address),
    async checkAuthFailures(address) {
      const limiter = limiters.authFailures;
      if (!limiter) return;
      const state = await limiter.get(address).catch(() => null);
      if (state && state.consumedPoints > limiter.points) {
        onRejected('authFailures');
        throw new RateLimitedError('authFailures', retryAfter(state));
      }
    },
    async openSubscription(subject) {
      const limiter = limiters.subscriptions;
      if (!limiter) return () => {};
      try {
        await consume('subscriptions', subject);
      } catch (error) {
        // A refused open still counted: give it back, so that the count is of open subscriptions.
        await limiter.reward(subject).catch(() => {});
        throw error;
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        void limiter.reward(subject).catch((error: unknown) => logger.warn({ err: error }, 'rate limit store: could not release a subscription'));
      };
    },
    async close() {
      redis?.disconnect();
    },
  };
}
