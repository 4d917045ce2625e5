import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, collect, eventually, SERVICES_MODE, startTestServer, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { lastUserText, startModelServer, type ModelServer } from './model-server/server.js';

type Data = Record<string, any>;

const AGENT_EVENTS = /* GraphQL */ `
  subscription Watch($agentId: ID!) {
    agentEvents(agentId: $agentId) {
      type runId stopReason blockIds
      messages { __typename }
      run { status }
    }
  }
`;
const BLOCK_UPDATED = /* GraphQL */ `
  subscription WatchBlock($blockId: ID!) { blockUpdated(blockId: $blockId) { blockId deleted block { value } } }
`;

async function gql(t: TestServer, query: string, variables?: Record<string, unknown>) {
  const result = await t.request<Data, Record<string, unknown>>(query, variables);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!;
}

describe('agentEvents and blockUpdated', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
  });
  afterAll(() => closeAll(t, model));

  it('reports runs starting and ending, new messages and memory changes made by the agent', async () => {
    const agent = (await gql(t, `mutation { createAgent(input: { model: "test/scripted", memoryBlocks: [{ label: "human", value: "" }] }) { agent { id blocks { id } } } }`)).createAgent.agent;
    const sub = collect<{ agentEvents: Data }>(t.ws(), { query: AGENT_EVENTS, variables: { agentId: agent.id } });
    // Make sure the subscription is live: poke with an update until its event arrives.
    let n = 0;
    await eventually(() => sub.values.length > 0, () => gql(t, `mutation($id: ID!, $d: String) { updateAgent(input: { id: $id, description: $d }) { agent { id } } }`, { id: agent.id, d: `v${++n}` }));
    const before = sub.values.length;

    model.enqueue({ toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Plays chess.' } }] }, { text: 'Noted.' });
    const sent = await gql(t, `mutation($id: ID!) { sendMessage(input: { agentId: $id, input: "I play chess" }) { run { id } } }`, { id: agent.id });
    const runId = sent.sendMessage.run.id;
    await eventually(() => sub.values.some((value) => value.agentEvents.type === 'RUN_ENDED'));
    const events = sub.values.slice(before).map((value) => value.agentEvents);
    expect(events.map((event) => event.type)).toEqual(['RUN_STARTED', 'MESSAGES_ADDED', 'BLOCK_CHANGED', 'MESSAGES_ADDED', 'RUN_ENDED']);
    expect(events.every((event) => event.type === 'BLOCK_CHANGED' || event.runId === runId)).toBe(true);
    expect(events[1]!.messages.map((message: Data) => message.__typename)).toEqual(['UserMessage', 'ToolCallMessage', 'ToolReturnMessage']);
    expect(events[2]!.blockIds).toEqual([agent.blocks[0].id]);
    expect(events[4]!).toMatchObject({ stopReason: 'END_TURN', run: { status: 'COMPLETED' } });
    sub.dispose();
  });

  it('delivers an edit of a shared block made through one agent to the block and to every agent showing it', async () => {
    const block = (await gql(t, `mutation { createBlock(input: { label: "team", value: "v0" }) { block { id } } }`)).createBlock.block;
    const a = (await gql(t, `mutation($b: ID!) { createAgent(input: { blockIds: [$b] }) { agent { id } } }`, { b: block.id })).createAgent.agent;
    const b = (await gql(t, `mutation($b: ID!) { createAgent(input: { blockIds: [$b] }) { agent { id } } }`, { b: block.id })).createAgent.agent;
    const onBlock = collect<{ blockUpdated: Data }>(t.ws(), { query: BLOCK_UPDATED, variables: { blockId: block.id } });
    const onB = collect<{ agentEvents: Data }>(t.ws(), { query: AGENT_EVENTS, variables: { agentId: b.id } });
    let n = 0;
    await eventually(
      () => onBlock.values.length > 0 && onB.values.some((value) => value.agentEvents.type === 'BLOCK_CHANGED'),
      () => gql(t, `mutation($a: ID!, $v: String!) { updateBlock(input: { agentId: $a, blockLabel: "team", value: $v }) { block { id } } }`, { a: a.id, v: `v${++n}` }),
    );
    expect(onBlock.values.at(-1)!.blockUpdated).toMatchObject({ blockId: block.id, deleted: false, block: { value: `v${n}` } });
    expect(onB.values.find((value) => value.agentEvents.type === 'BLOCK_CHANGED')!.agentEvents.blockIds).toEqual([block.id]);

    await gql(t, `mutation($id: ID!) { deleteBlock(input: { id: $id }) { deletedBlockId } }`, { id: block.id });
    await eventually(() => onBlock.completed);
    expect(onBlock.values.at(-1)!.blockUpdated).toMatchObject({ deleted: true, block: null });
    onB.dispose();
  });

  it('lets a subscriber that leaves while nothing happens go at once (services: its Redis channel is released)', async () => {
    const agent = (await gql(t, `mutation { createAgent(input: { model: "test/scripted", memoryBlocks: [{ label: "human", value: "" }] }) { agent { id blocks { id } } } }`)).createAgent.agent;
    const blockId = agent.blocks[0].id;
    const client = t.ws();
    const agentSub = collect<{ agentEvents: Data }>(client, { query: AGENT_EVENTS, variables: { agentId: agent.id } });
    const blockSub = collect<{ blockUpdated: Data }>(client, { query: BLOCK_UPDATED, variables: { blockId } });
    // Both live (one event each), then waiting for the next one when they leave.
    let n = 0;
    await eventually(
      () => agentSub.values.length > 0 && blockSub.values.length > 0,
      () => gql(t, `mutation($id: ID!, $v: String!) { updateBlock(input: { id: $id, value: $v }) { block { id } } }`, { id: blockId, v: `v${++n}` }),
    );
    const redis = SERVICES_MODE ? new Redis(process.env.REDIS_URL!) : undefined;
    const listeners = async () => {
      const counts = (await redis!.pubsub('NUMSUB', `agentgraph:agentEvents:${agent.id}`, `agentgraph:blockUpdated:${blockId}`)) as Array<string | number>;
      return [Number(counts[1]), Number(counts[3])];
    };
    try {
      if (redis) expect(await listeners()).toEqual([1, 1]);
      agentSub.dispose();
      blockSub.dispose();
      if (redis) {
        const deadline = Date.now() + 5_000;
        while ((await listeners()).some((count) => count > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await listeners()).toEqual([0, 0]);
      }
    } finally {
      redis?.disconnect();
    }
  });

  it('refuses a block of another organization or an unknown one', async () => {
    const other = await t.newOrganization();
    const theirs = await t.request<Data, unknown>(`mutation { createBlock(input: { label: "x", value: "secret" }) { block { id } } }`, undefined, { token: other.token });
    const mine = await t.newOrganization();
    const client = t.ws({ token: mine.token });
    for (const id of [theirs.data!.createBlock.block.id, 'block-00000000-0000-4000-8000-000000000000']) {
      const state = collect(client, { query: BLOCK_UPDATED, variables: { blockId: id } });
      await eventually(() => state.errors.length > 0 || state.completed);
      expect(JSON.stringify(state.errors)).toContain('NOT_FOUND');
    }
  });
});

// Two instances share one database only in services mode (PGlite belongs to one process).
describe.runIf(SERVICES_MODE)('across instances', () => {
  let model: ModelServer;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    // Unscripted requests get a slow echo, so that runs on the two instances would overlap.
    model = await startModelServer({ brain: (request) => ({ text: `echo: ${lastUserText(request)}`, delayMs: 40, chunkDelayMs: 5 }) });
    const providers = JSON.stringify([{ name: 'test', baseUrl: model.url }]);
    a = await startTestServer({ LLM_PROVIDERS: providers });
    b = await startTestServer({ DATABASE_URL: a.env.DATABASE_URL!, LLM_PROVIDERS: providers }, { dropOnClose: false });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await model?.close();
  });

  it('a run executing on A is cancelled from B within 500 ms, its model request aborted', async () => {
    const agent = (await gql(a, `mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`)).createAgent.agent;
    model.enqueue({ text: 'x'.repeat(4000), chunkDelayMs: 20 });
    const started = await gql(a, `mutation($id: ID!) { sendMessageAsync(input: { agentId: $id, input: "long" }) { run { id } } }`, { id: agent.id });
    const requests = model.requests.length;
    await eventually(() => model.requests.length > requests);
    const request = model.requests.at(-1)!;
    const cancelledAt = Date.now();
    await gql(b, `mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { status } } }`, { id: started.sendMessageAsync.run.id });
    await eventually(() => request.aborted === true, undefined, 2000);
    expect(Date.now() - cancelledAt).toBeLessThan(500);
    const run = await gql(a, `query($id: ID!) { run(id: $id) { status stopReason } }`, { id: started.sendMessageAsync.run.id });
    expect(run.run).toEqual({ status: 'CANCELLED', stopReason: 'CANCELLED' });
  });

  it('keeps the runs of one agent in order when sends arrive at both instances at once', async () => {
    const agent = (await gql(a, `mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`)).createAgent.agent;
    const count = 8;
    // No scripted replies: the brain echoes the last user message, so each reply names its input.
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        gql(i % 2 ? b : a, `mutation($id: ID!, $text: String!) { sendMessage(input: { agentId: $id, input: $text }) { run { status } } }`, {
          id: agent.id,
          text: `message ${i}`,
        }),
      ),
    );
    expect(results.every((result) => result.sendMessage.run.status === 'COMPLETED')).toBe(true);
    const history = await gql(a, `query($id: ID!) { agent(id: $id) { messages(last: 100) { nodes { __typename ... on UserMessage { content } ... on AssistantMessage { content } } } } }`, { id: agent.id });
    const contents = history.agent.messages.nodes.slice(1).map((node: Data) => node.content);
    expect(contents).toHaveLength(count * 2);
    for (let i = 0; i < count; i++) expect(contents[2 * i + 1]).toBe(`echo: ${contents[2 * i]}`);
  });

  it('keeps a deployment with another REDIS_PREFIX to its own channels and stream keys on the same Redis', async () => {
    const prefix = `other-${randomUUID().slice(0, 8)}:`;
    const other = await startTestServer({ REDIS_PREFIX: prefix, LLM_PROVIDERS: JSON.stringify([{ name: 'test', baseUrl: model.url }]) });
    const watcher = new Redis(process.env.REDIS_URL!);
    const keys = new Redis(process.env.REDIS_URL!);
    try {
      const channels: string[] = [];
      watcher.on('pmessage', (_pattern, channel) => channels.push(channel));
      await watcher.psubscribe(`${prefix}*`);
      const agent = (await gql(other, `mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`)).createAgent.agent;
      const sub = collect<{ agentEvents: Data }>(other.ws(), { query: AGENT_EVENTS, variables: { agentId: agent.id } });
      // Make sure the subscription is live: poke with an update until its event arrives.
      let n = 0;
      await eventually(() => sub.values.length > 0, () => gql(other, `mutation($id: ID!, $d: String) { updateAgent(input: { id: $id, description: $d }) { agent { id } } }`, { id: agent.id, d: `v${++n}` }));
      model.enqueue({ text: 'namespaced' });
      const sent = await gql(other, `mutation($id: ID!) { sendMessage(input: { agentId: $id, input: "hi" }) { run { id status } } }`, { id: agent.id });
      expect(sent.sendMessage.run.status).toBe('COMPLETED');
      await eventually(() => sub.values.some((value) => value.agentEvents.type === 'RUN_ENDED'));
      expect(channels).toContain(`${prefix}agentEvents:${agent.id}`);
      expect(channels.every((channel) => channel.startsWith(prefix))).toBe(true);
      expect(await keys.exists(`${prefix}run:${sent.sendMessage.run.id}`)).toBe(1);
      expect(await keys.exists(`agentgraph:run:${sent.sendMessage.run.id}`)).toBe(0);
    } finally {
      watcher.disconnect();
      keys.disconnect();
      await other.close();
    }
  });

  it('streams a run executing on A to a subscriber on B', async () => {
    const agent = (await gql(a, `mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`)).createAgent.agent;
    model.enqueue({ text: 'across the instances', chunkDelayMs: 10, delayMs: 300 });
    const started = await gql(a, `mutation($id: ID!) { sendMessageAsync(input: { agentId: $id, input: "hi" }) { run { id } } }`, { id: agent.id });
    const sub = collect<{ runEvents: Data }>(b.ws(), {
      query: `subscription($r: ID!) { runEvents(runId: $r) { __typename seq ... on MessageDeltaEvent { delta } } }`,
      variables: { r: started.sendMessageAsync.run.id },
    });
    await eventually(() => sub.completed || sub.errors.length > 0, undefined, 15_000);
    expect(sub.errors).toEqual([]);
    const events = sub.values.map((value) => value.runEvents);
    expect(events.filter((event) => event.__typename === 'MessageDeltaEvent').map((event) => event.delta).join('')).toBe('across the instances');
    expect(events.filter((event) => event.__typename !== 'PingEvent').map((event) => event.seq)).toEqual(
      events.filter((event) => event.__typename !== 'PingEvent').map((_, index) => index + 1),
    );
  });
});
