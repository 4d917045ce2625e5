import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, collect, eventually, SERVICES_MODE, startWithScriptedModel, type TestServer } from './helpers/server.js';
import type { ModelServer } from './model-server/server.js';

/**
 * Isolation (issue 13): a stream with lost events says so. Whether the event store lost them
 * (Redis without persistence restarting, a key dropped), could not write them, or no longer has
 * the run at all, a subscriber gets an EventsLostEvent where they are missing, with the run's
 * stored messages to rebuild from, never a silent gap.
 */

type Event = {
  __typename: string;
  seq: number;
  delta?: string;
  reason?: string;
  fromSeq?: number | null;
  toSeq?: number | null;
  messages?: Array<{ __typename: string; content?: string }>;
  stopReason?: string;
};

const RUN_EVENTS = /* GraphQL */ `
  subscription FollowRunEvents($runId: ID!, $after: Int) {
    runEvents(runId: $runId, after: $after) {
      __typename seq
      ... on MessageDeltaEvent { delta }
      ... on StopReasonEvent { stopReason }
      ... on EventsLostEvent { reason fromSeq toSeq messages { __typename ... on AssistantMessage { content } } }
    }
  }
`;

describe('lost run events', () => {
  let model: ModelServer;
  let t: TestServer;
  let agentId: string;

  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({ RUN_EVENT_PING_MS: '200', RUN_EVENT_TTL_SECONDS: '2' }));
    const created = await t.request<{ createAgent: { agent: { id: string } } }, unknown>(`mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`);
    agentId = created.data!.createAgent.agent.id;
  });
  afterAll(() => closeAll(t, model));

  const startRun = async () => {
    const result = await t.request<{ sendMessageAsync: { run: { id: string } } }, unknown>(
      `mutation($id: ID!) { sendMessageAsync(input: { agentId: $id, input: "go" }) { run { id } } }`,
      { id: agentId },
    );
    return result.data!.sendMessageAsync.run.id;
  };

  const subscribe = (runId: string, after = 0) => collect<{ runEvents: Event }>(t.ws(), { query: RUN_EVENTS, variables: { runId, after } });
  const eventsOf = (state: ReturnType<typeof subscribe>) => state.values.map((value) => value.runEvents).filter((event) => event.__typename !== 'PingEvent');
  const stream = async (runId: string, after = 0) => {
    const state = subscribe(runId, after);
    await eventually(() => state.completed || state.errors.length > 0, undefined, 20_000);
    expect(state.errors).toEqual([]);
    return eventsOf(state);
  };

  /** Seqs increase by one, except right after an EventsLostEvent that accounts for the gap. */
  function expectAccountedFor(list: Event[], after: number) {
    let last = after;
    for (const event of list) {
      if (event.__typename === 'EventsLostEvent') {
        last = event.seq;
        continue;
      }
      expect(event.seq, `event after seq ${last}`).toBe(last + 1);
      last = event.seq;
    }
  }

  it('a resume after the stream expired is told that events were lost, and gets the run rebuilt', async () => {
    model.enqueue({ text: 'expired but not forgotten', chunkDelayMs: 5 });
    const runId = await startRun();
    const live = await stream(runId);
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // RUN_EVENT_TTL_SECONDS=2
    const resumed = await stream(runId, 3);
    expect(resumed[0]).toMatchObject({ __typename: 'EventsLostEvent', reason: 'EXPIRED', fromSeq: 4, toSeq: null, seq: 3 });
    expect(resumed[0]!.messages?.filter((message) => message.__typename === 'AssistantMessage').map((message) => message.content)).toEqual(['expired but not forgotten']);
    expect(resumed.at(-2)).toMatchObject({ __typename: 'StopReasonEvent', stopReason: 'END_TURN' });
    expectAccountedFor(resumed, 3);
    expect(live.some((event) => event.__typename === 'EventsLostEvent')).toBe(false);
  });

  describe.skipIf(!SERVICES_MODE)('with Redis (services mode: the in-process store cannot lose events)', () => {
    let redis: Redis;
    beforeAll(() => {
      redis = new Redis(process.env.REDIS_URL!);
    });
    afterAll(() => redis.quit());
    const key = (runId: string) => `agentgraph:run:${runId}`;

    it('Redis losing a running run’s stream: a later replay starts with an EventsLostEvent naming the missing seqs', async () => {
      model.enqueue({ text: 'word '.repeat(80), chunkDelayMs: 25, chunkSize: 5 });
      const runId = await startRun();
      const live = subscribe(runId);
      await eventually(() => eventsOf(live).length >= 3, undefined, 20_000);
      await redis.del(key(runId)); // as a restart without persistence would
      await eventually(() => live.completed || live.errors.length > 0, undefined, 30_000);
      expect(live.errors).toEqual([]);
      // The live subscriber missed nothing.
      expectAccountedFor(eventsOf(live), 0);
      expect(eventsOf(live).some((event) => event.__typename === 'EventsLostEvent')).toBe(false);

      const replayed = await stream(runId);
      const first = replayed[0]!;
      expect(first).toMatchObject({ __typename: 'EventsLostEvent', reason: 'GAP', fromSeq: 1 });
      expect(first.toSeq).toBeGreaterThanOrEqual(3);
      expect(replayed[1]!.seq).toBe(first.toSeq! + 1);
      expectAccountedFor(replayed, 0);
      expect(replayed.at(-2)).toMatchObject({ __typename: 'StopReasonEvent', stopReason: 'END_TURN' });
    });

    it('events that cannot be stored are announced as lost where they are missing', async () => {
      model.enqueue({ text: 'token '.repeat(80), chunkDelayMs: 25, chunkSize: 6 });
      const runId = await startRun();
      const live = subscribe(runId);
      await eventually(() => eventsOf(live).length >= 3, undefined, 20_000);
      // The run's key becomes something else: appends fail (WRONGTYPE) until it is freed.
      await redis.multi().del(key(runId)).set(key(runId), 'not a stream').exec();
      await new Promise((resolve) => setTimeout(resolve, 400));
      await redis.del(key(runId));
      await eventually(() => live.completed || live.errors.length > 0, undefined, 30_000);
      expect(live.errors).toEqual([]);
      const list = eventsOf(live);
      const lost = list.find((event) => event.__typename === 'EventsLostEvent');
      expect(lost).toMatchObject({ reason: 'NOT_STORED' });
      expectAccountedFor(list, 0);
      expect(list.at(-2)).toMatchObject({ __typename: 'StopReasonEvent', stopReason: 'END_TURN' });
      // The whole answer is in the database, for the client to rebuild from.
      expect(lost!.messages).toBeDefined();
    });
  });
});
