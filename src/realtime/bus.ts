import { createPubSub, type PubSub } from 'graphql-yoga';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** What happens to an agent, as seen by `agentEvents` subscribers on every instance. */
export interface AgentEvent {
  type: 'AGENT_UPDATED' | 'AGENT_DELETED' | 'RUN_STARTED' | 'RUN_ENDED' | 'MESSAGES_ADDED' | 'BLOCK_CHANGED';
  agentId: string;
  organizationId: string;
  at: string;
  runId?: string;
  stopReason?: string;
  messageIds?: string[];
  blockIds?: string[];
}

/** A memory block changed (value, label, settings) or was deleted, by any agent or client. */
export interface BlockEvent {
  blockId: string;
  organizationId: string;
  deleted: boolean;
  at: string;
}

/** A file's processing moved on (status, progress) or the file was deleted. */
export interface FileEvent {
  fileId: string;
  organizationId: string;
  deleted: boolean;
  at: string;
}

export type BusChannels = {
  agentEvents: [agentId: string, event: AgentEvent];
  blockUpdated: [blockId: string, event: BlockEvent];
  fileUpdated: [fileId: string, event: FileEvent];
  /** A run was cancelled: the instance executing it aborts its model call. */
  runCancelled: [event: { runId: string }];
  /**
   * A run was queued: instances with free capacity try to claim it. `from`: the instance that
   * queued it, which has tried already.
   */
  runQueued: [event: { runId: string; from?: string }];
  /**
   * A run ended: its waiters wake up and the agent's next run may start. `from`: the instance
   * that executed it, which looks for the next run by itself.
   */
  runEnded: [event: { runId: string; from?: string }];
};

export interface EventBus {
  readonly kind: 'redis' | 'memory';
  readonly pubsub: PubSub<BusChannels>;
  /** True when the bus can deliver (Redis answers a PING); always true in process. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** Redis pub/sub when REDIS_URL is set (events cross instances), in-process otherwise. */
export async function createEventBus(redisUrl: string | undefined, logger: Logger, prefix = 'agentgraph:'): Promise<EventBus> {
  if (!redisUrl) {
    return {
      kind: 'memory',
      pubsub: createPubSub<BusChannels>(),
      healthy: async () => true,
      close: async () => {},
    };
  }
  // Publishing gives up after a few reconnect attempts (an event is lost, never the process);
  // (un)subscribing waits through reconnects, and ioredis subscribes again after one.
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  for (const client of [publishClient, subscribeClient]) {
    client.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
  }
  try {
    await Promise.all([publishClient.connect(), subscribeClient.connect()]);
  } catch (error) {
    publishClient.disconnect();
    subscribeClient.disconnect();
    throw new Error(`Cannot connect to Redis at REDIS_URL: ${(error as Error).message}`);
  }
  const publisher = {
    publish: (channel: string, message: string) =>
      publishClient.publish(channel, message).catch((error: Error) => {
        logger.warn({ err: error.message, channel }, 'event not published: Redis did not answer');
        return 0;
      }),
  };
  const eventTarget = createRedisEventTarget({ publishClient: publisher as unknown as Redis, subscribeClient });
  return {
    kind: 'redis',
    pubsub: createPubSub<BusChannels>({ eventTarget: withPrefix(eventTarget, prefix) }),
    healthy: async () => {
      try {
        return (await publishClient.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    close: async () => {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

type Target = ReturnType<typeof createRedisEventTarget>;

/** Channels named `<prefix><topic>`, so that deployments sharing one Redis do not hear each other. */
function withPrefix(target: Target, prefix: string): Target {
  return {
    addEventListener: (topic, listener) => target.addEventListener(prefix + topic, listener),
    removeEventListener: (topic, listener) => target.removeEventListener(prefix + topic, listener),
    dispatchEvent: (event) => target.dispatchEvent(new CustomEvent(prefix + event.type, { detail: (event as CustomEvent).detail })),
  };
}
