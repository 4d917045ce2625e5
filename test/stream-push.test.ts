import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, collect, eventually, startWithScriptedModel } from './helpers/server.js';
import { assistantText, RUN_EVENTS, type RunEvent, withoutPings } from './helpers/run-events.js';

/**
 * Many graphql-ws subscribers of one run: live events are pushed to every waiting subscriber in
 * the turn they arrive (src/realtime/stream-push.ts), and a subscriber that is not waiting, joins
 * late or leaves takes the pull path. Whatever the path, each gets every event once, in order.
 */

type Data = Record<string, any>;

/** Another document: its subscribers share another execution. */
const RUN_EVENT_SEQS = `subscription($runId: ID!) { runEvents(runId: $runId) { __typename seq } }`;

const seqs = (events: RunEvent[]) => events.map((event) => event.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

/** Every ping carries the seq of the last event before it (or `after`). */
function expectPingsCarryLastSeq(events: RunEvent[], after = 0) {
  let last = after;
  for (const event of events) {
    if (event.__typename === 'PingEvent') expect(event.seq).toBe(last);
    else last = event.seq;
  }
}

describe('many subscribers of one run over graphql-ws', () => {
  const cleanup: Array<{ close(): Promise<void> } | undefined> = [];
  afterAll(async () => closeAll(...cleanup.reverse()));

  it('every subscriber gets every event once and in order, whether it stays, leaves mid-run or joins late', async () => {
    const { model, t } = await startWithScriptedModel({ RUN_EVENT_PING_MS: '300' });
    cleanup.push(model, t);
    const agentId = ((await t.ok(`mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }` as never)) as Data).createAgent.agent.id;
    const reply = Array.from({ length: 120 }, (_, index) => `w${index} `).join('');
    model.enqueue({ text: reply, chunkSize: 4, chunkDelayMs: 20 });
    const runId = ((await t.ok(`mutation($id: ID!) { sendMessageAsync(input: { agentId: $id, input: "talk" }) { run { id } } }` as never, { id: agentId } as never)) as Data)
      .sendMessageAsync.run.id;

    // 4 connections × 3 subscriptions of one document, one of another, and one that will leave.
    const clients = Array.from({ length: 4 }, () => t.ws());
    const staying = clients.flatMap((client) => Array.from({ length: 3 }, () => collect<{ runEvents: RunEvent }>(client, { query: RUN_EVENTS, variables: { runId } })));
    const other = collect<{ runEvents: RunEvent }>(clients[0]!, { query: RUN_EVENT_SEQS, variables: { runId } });
    const leaving = collect<{ runEvents: RunEvent }>(clients[1]!, { query: RUN_EVENTS, variables: { runId } });
    const eventsOf = (subscriber: typeof leaving) => subscriber.values.map((value) => value.runEvents);

    await eventually(() => withoutPings(eventsOf(leaving)).length >= 10, undefined, 30_000);
    leaving.dispose();
    const leftWith = eventsOf(leaving).length;
    // Joining mid-run: one replays everything, one what it has not seen, then both go live.
    const seen = withoutPings(eventsOf(staying[0]!)).at(-1)!.seq;
    const replaying = collect<{ runEvents: RunEvent }>(t.ws(), { query: RUN_EVENTS, variables: { runId, after: 0 } });
    const resuming = collect<{ runEvents: RunEvent }>(clients[2]!, { query: RUN_EVENTS, variables: { runId, after: seen - 3 } });

    const everyone = [...staying, other, replaying, resuming];
    await eventually(() => everyone.every((subscriber) => subscriber.completed), undefined, 60_000);
    for (const subscriber of [...everyone, leaving]) expect(subscriber.errors).toEqual([]);

    const all = withoutPings(eventsOf(staying[0]!));
    expect(seqs(all)).toEqual(range(1, all.length));
    expect(assistantText(all)).toBe(reply);
    expect(all.at(-1)?.__typename).toBe('UsageEvent');
    expect(all.find((event) => event.__typename === 'StopReasonEvent')?.stopReason).toBe('END_TURN');
    for (const subscriber of [...staying, replaying]) {
      expect(withoutPings(eventsOf(subscriber))).toEqual(all);
      expectPingsCarryLastSeq(eventsOf(subscriber));
    }
    expect(seqs(withoutPings(eventsOf(other)))).toEqual(seqs(all));
    expect(withoutPings(eventsOf(resuming))).toEqual(all.slice(seen - 3));
    expectPingsCarryLastSeq(eventsOf(resuming), seen - 3);

    // The one that left got a prefix of the run, and nothing after it left.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(eventsOf(leaving).length).toBe(leftWith);
    expect(withoutPings(eventsOf(leaving))).toEqual(all.slice(0, withoutPings(eventsOf(leaving)).length));
  }, 120_000);

  it('subscribers of a silent run share one check of whether it ended, instead of one statement each per ping', async () => {
    const { model, t } = await startWithScriptedModel({ RUN_EVENT_PING_MS: '100' });
    cleanup.push(t, model); // the model closes first: that ends the hanging request
    const agentId = ((await t.ok(`mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }` as never)) as Data).createAgent.agent.id;
    // Step 1 stores events (a tool call); step 2's model never answers: the run is started and silent.
    model.enqueue({ toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Waits a lot.' } }] }, { hang: true });
    const runId = ((await t.ok(`mutation($id: ID!) { sendMessageAsync(input: { agentId: $id, input: "talk" }) { run { id } } }` as never, { id: agentId } as never)) as Data)
      .sendMessageAsync.run.id;
    await eventually(() => model.active() === 1, undefined, 20_000);

    const subscribers = Array.from({ length: 2 }, () => t.ws()).flatMap((client) =>
      Array.from({ length: 10 }, () => collect<{ runEvents: RunEvent }>(client, { query: RUN_EVENTS, variables: { runId } })),
    );
    const pings = () => Math.min(...subscribers.map((subscriber) => subscriber.values.filter((value) => value.runEvents.__typename === 'PingEvent').length));
    await eventually(() => pings() >= 1, undefined, 20_000);
    const before = t.app.db.statementCount();
    const pingsBefore = pings();
    await eventually(() => pings() >= pingsBefore + 5, undefined, 20_000);
    // 20 subscribers × 5 pings each asked whether the run ended long ago: shared, that is a
    // statement every few seconds (plus background work), not one per subscriber and ping (100).
    expect(t.app.db.statementCount() - before).toBeLessThan(20);
    for (const subscriber of subscribers) expect(subscriber.errors).toEqual([]);
    await t.ok(`mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { status } } }` as never, { id: runId } as never);
    await eventually(() => subscribers.every((subscriber) => subscriber.completed), undefined, 20_000);
  }, 60_000);
});
