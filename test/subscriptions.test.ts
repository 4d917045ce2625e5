import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient as createSseClient } from 'graphql-sse';
import { graphql } from '../src/generated/gql/index.js';
import { SSE_PATH } from '../src/server.js';
import { collect, eventually, SERVICES_MODE, startTestServer, type TestServer } from './helpers/server.js';

const NewAgent = graphql(`
  mutation NewAgent($name: String!) { createAgent(input: { name: $name }) { agent { id } } }
`);
const Rename = graphql(`
  mutation Rename($id: ID!, $name: String!) { updateAgent(input: { id: $id, name: $name }) { agent { id name } } }
`);
const Remove = graphql(`
  mutation Remove($id: ID!) { deleteAgent(input: { id: $id }) { deletedAgentId } }
`);

const AGENT_EVENTS = /* GraphQL */ `
  subscription AgentEvents($agentId: ID!) { agentEvents(agentId: $agentId) { type agentId at agent { name } } }
`;

type AgentEventData = { agentEvents: { type: string; agentId: string; at: string; agent: { name: string } | null } };

describe('agentEvents over graphql-ws', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('streams updates from other clients and completes after deletion', async () => {
    const id = (await t.ok(NewAgent, { name: 'watched' })).createAgent.agent.id;
    const sub = collect<AgentEventData>(t.ws(), { query: AGENT_EVENTS, variables: { agentId: id } });
    let version = 0;
    // Publishing until the first event arrives proves the subscription is live without sleeping.
    await eventually(() => sub.values.length > 0, () => t.ok(Rename, { id, name: `v${++version}` }));
    const first = sub.values[0]!.agentEvents;
    expect(first).toMatchObject({ type: 'AGENT_UPDATED', agentId: id });
    expect(first.agent?.name).toMatch(/^v\d+$/);

    await t.ok(Remove, { id });
    await eventually(() => sub.completed);
    const last = sub.values.at(-1)!.agentEvents;
    expect(last).toEqual({ type: 'AGENT_DELETED', agentId: id, at: expect.any(String), agent: null });
    expect(sub.errors).toEqual([]);
  });

  it('refuses an unknown or foreign agent with NOT_FOUND and a malformed id with BAD_USER_INPUT', async () => {
    const other = await t.newOrganization();
    const foreignId = (await t.ok(NewAgent, { name: 'theirs' }, { token: other.token })).createAgent.agent.id;
    // The first key made keys mandatory on this loopback server; use one for this client.
    const mine = await t.newOrganization();
    const client = t.ws({ token: mine.token });
    for (const [agentId, code] of [
      [foreignId, 'NOT_FOUND'],
      ['agent-00000000-0000-4000-8000-000000000000', 'NOT_FOUND'],
      ['agent-1', 'BAD_USER_INPUT'],
    ] as const) {
      const sub = collect<AgentEventData>(client, { query: AGENT_EVENTS, variables: { agentId } });
      await eventually(() => sub.errors.length > 0 || sub.completed);
      expect(JSON.stringify(sub.errors), agentId).toContain(code);
      expect(sub.values).toEqual([]);
    }
  });
});

describe('agentEvents over GraphQL over SSE', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ AUTH_MODE: 'required' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('streams with the graphql-sse client, authenticated by header', async () => {
    const { token } = await t.newOrganization();
    const id = (await t.ok(NewAgent, { name: 'sse' }, { token })).createAgent.agent.id;
    const client = createSseClient({
      url: new URL(SSE_PATH, t.url).toString(),
      headers: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    const received: AgentEventData[] = [];
    let failure: unknown;
    const unsubscribe = client.subscribe<AgentEventData>(
      { query: AGENT_EVENTS, variables: { agentId: id } },
      { next: (value) => void (value.data && received.push(value.data)), error: (error) => (failure = error), complete: () => {} },
    );
    try {
      let version = 0;
      await eventually(() => received.length > 0 || failure !== undefined, () => t.ok(Rename, { id, name: `s${++version}` }, { token }));
      expect(failure).toBeUndefined();
      expect(received[0]?.agentEvents).toMatchObject({ type: 'AGENT_UPDATED', agentId: id });
    } finally {
      unsubscribe();
      client.dispose();
    }
  });

  it('refuses a subscription without a key, and reports unknown agents and bad queries as results', async () => {
    const client = createSseClient({ url: new URL(SSE_PATH, t.url).toString(), retryAttempts: 0 });
    const outcome = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: AGENT_EVENTS, variables: { agentId: 'agent-00000000-0000-4000-8000-000000000000' } },
        { next: (value) => resolve(value), error: (error) => resolve(error), complete: () => resolve('complete') },
      );
    });
    client.dispose();
    expect(JSON.stringify(outcome)).toContain('UNAUTHENTICATED');

    const { token } = await t.newOrganization();
    const authed = createSseClient({ url: new URL(SSE_PATH, t.url).toString(), headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    for (const [query, code] of [
      [AGENT_EVENTS, 'NOT_FOUND'],
      ['subscription { agentEvents(agentId: "agent-00000000-0000-4000-8000-000000000000") { nope } }', 'BAD_USER_INPUT'],
    ] as const) {
      const result = await new Promise<unknown>((resolve) => {
        authed.subscribe(
          { query, variables: { agentId: 'agent-00000000-0000-4000-8000-000000000000' } },
          { next: (value) => resolve(value), error: (error) => resolve(error), complete: () => resolve('complete') },
        );
      });
      expect(JSON.stringify(result), query).toContain(code);
    }
    authed.dispose();
  });
});

// Two instances share one database only in services mode (PGlite belongs to one process).
describe.runIf(SERVICES_MODE)('agentEvents across instances through Redis', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer();
    b = await startTestServer({ DATABASE_URL: a.env.DATABASE_URL! }, { dropOnClose: false });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('an update made on instance B reaches a subscriber on instance A', async () => {
    expect(a.app.bus.kind).toBe('redis');
    const id = (await a.ok(NewAgent, { name: 'shared' })).createAgent.agent.id;
    const sub = collect<AgentEventData>(a.ws(), { query: AGENT_EVENTS, variables: { agentId: id } });
    let version = 0;
    await eventually(() => sub.values.length > 0, () => b.ok(Rename, { id, name: `b${++version}` }));
    expect(sub.values[0]!.agentEvents).toMatchObject({ type: 'AGENT_UPDATED', agentId: id, agent: { name: expect.stringMatching(/^b\d+$/) } });
    await b.ok(Remove, { id });
    await eventually(() => sub.completed);
    expect(sub.values.at(-1)!.agentEvents.type).toBe('AGENT_DELETED');
  });
});

describe('graphql-ws keep-alive', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ WS_KEEPALIVE_MS: '1000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('disconnects a client that answers no ping and keeps one that does', async () => {
    const open = async (autoPong: boolean) => {
      const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws', { autoPong });
      const state = { acknowledged: false, closed: false, pings: 0 };
      socket.on('message', (raw) => {
        if ((JSON.parse(String(raw)) as { type: string }).type === 'connection_ack') state.acknowledged = true;
      });
      socket.on('ping', () => (state.pings += 1));
      socket.on('close', () => (state.closed = true));
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
      await eventually(() => state.acknowledged);
      return { socket, state };
    };
    const [silent, answering] = await Promise.all([open(false), open(true)]);
    // Pinged every second; a ping still unanswered at the next one ends the connection.
    await eventually(() => silent.state.closed, undefined, 5_000);
    expect(silent.state.pings).toBeGreaterThanOrEqual(1);
    await eventually(() => answering.state.pings >= 3, undefined, 6_000);
    expect(answering.state.closed).toBe(false);
    answering.socket.close();
  });
});
