import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { authPolicyFor } from '../src/app.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const CreateOwned = graphql(`
  mutation CreateOwned($input: CreateAgentInput!) { createAgent(input: $input) { agent { id name } } }
`);
const ReadOwned = graphql(`
  query ReadOwned($id: ID!) { agent(id: $id) { id name } node(id: $id) { id } agentCount agents { totalCount edges { node { id } } } }
`);
const WhoAmI = graphql(`
  query WhoAmI { organization { id name } }
`);
const MintKey = graphql(`
  mutation MintKey($name: String!) { createApiKey(input: { name: $name }) { key apiKey { id name prefix revokedAt } } }
`);
const RevokeKey = graphql(`
  mutation RevokeKey($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id revokedAt } } }
`);

describe('organizations are isolated', () => {
  let t: TestServer;
  let acme: { orgId: string; token: string };
  let globex: { orgId: string; token: string };
  beforeAll(async () => {
    t = await startTestServer({ AUTH_MODE: 'required' });
    acme = await t.newOrganization('acme');
    globex = await t.newOrganization('globex');
  });
  afterAll(async () => {
    await t?.close();
  });

  it("another organization's agent is NOT_FOUND everywhere, with no leak", async () => {
    const { createAgent } = await t.ok(CreateOwned, { input: { name: 'secret' } }, { token: acme.token });
    const id = createAgent.agent.id;

    const own = await t.ok(ReadOwned, { id }, { token: acme.token });
    expect(own.agent?.name).toBe('secret');
    expect(own.agentCount).toBe(1);

    const foreign = await t.request(ReadOwned, { id }, { token: globex.token });
    expect(foreign.errors).toHaveLength(1);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(foreign.errors?.[0]?.message).toBe(`Agent ${id} not found`);
    expect(foreign.data?.agent).toBeNull();
    expect(foreign.data?.node).toBeNull();
    expect(foreign.data?.agentCount).toBe(0);
    expect(foreign.data?.agents.edges).toEqual([]);

    const update = await t.request(`mutation { updateAgent(input: { id: "${id}", name: "pwned" }) { agent { id } } }`, undefined, { token: globex.token });
    expect(update.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const del = await t.request(`mutation { deleteAgent(input: { id: "${id}" }) { deletedAgentId } }`, undefined, { token: globex.token });
    expect(del.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await t.ok(ReadOwned, { id }, { token: acme.token })).agent?.name).toBe('secret');

    // A cursor from another organization does not reveal its position either: it names no row of
    // this list, as a deleted one does.
    const probe = graphql(`query CursorProbe($after: String) { agents(after: $after) { totalCount } }`);
    const cursor = await t.request(probe, { after: id }, { token: globex.token });
    const gone = await t.request(probe, { after: 'agent-00000000-0000-4000-8000-000000000000' }, { token: globex.token });
    expect(cursor.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND', path: 'after' });
    expect(cursor.errors?.[0]?.message.replace(id, '<id>')).toBe(gone.errors?.[0]?.message.replace('agent-00000000-0000-4000-8000-000000000000', '<id>'));
  });

  it('requests without a key, with a wrong key or a revoked key are UNAUTHENTICATED', async () => {
    for (const token of [undefined, 'agk_wrong', 'Bearer']) {
      const result = await t.request(WhoAmI, {}, token ? { token } : {});
      expect(result.errors?.[0]?.extensions?.code, String(token)).toBe('UNAUTHENTICATED');
      expect(result.data?.organization ?? null).toBeNull();
    }
    const minted = await t.ok(MintKey, { name: 'short-lived' }, { token: acme.token });
    expect(minted.createApiKey.key).toMatch(/^agk_/);
    expect(minted.createApiKey.apiKey.prefix).toBe(minted.createApiKey.key.slice(0, 10));
    expect((await t.ok(WhoAmI, {}, { token: minted.createApiKey.key })).organization.name).toBe('acme');

    await t.ok(RevokeKey, { id: minted.createApiKey.apiKey.id }, { token: acme.token });
    const revoked = await t.request(WhoAmI, {}, { token: minted.createApiKey.key });
    expect(revoked.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(revoked.errors?.[0]?.message).toMatch(/revoked/);

    // Keys are stored hashed: the secret is nowhere in the database.
    const rows = await t.app.db.prisma.apiKey.findMany();
    expect(JSON.stringify(rows)).not.toContain(minted.createApiKey.key);
    // Another organization cannot revoke acme's keys.
    const foreignRevoke = await t.request(RevokeKey, { id: minted.createApiKey.apiKey.id }, { token: globex.token });
    expect(foreignRevoke.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a wrong key is refused when a graphql-ws connection opens', async () => {
    const client = t.ws({ token: 'agk_wrong' });
    const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
    expect(await closed).toBe(4401);
  });

  it("a refused key is fatal to graphql-ws's client: it reports the error instead of retrying", async () => {
    let attempts = 0;
    // graphql-ws's defaults: 5 retries with backoff for close codes it does not take as fatal.
    const client = createClient({ url: t.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: 'Bearer agk_wrong' }, on: { connecting: () => attempts++ } });
    try {
      const error = await new Promise<unknown>((resolve) => client.subscribe({ query: '{ __typename }' }, { next: () => {}, error: resolve, complete: () => resolve(undefined) }));
      expect(error).toMatchObject({ code: 4401, reason: expect.stringMatching(/^Unauthorized: /) });
      expect(attempts).toBe(1);
    } finally {
      await client.dispose();
    }
  });
});

describe('auth policies', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('loopback without keys serves the default organization until the first key exists', async () => {
    t = await startTestServer({ AUTH_MODE: 'auto' });
    const open = await t.ok(WhoAmI, {});
    expect(open.organization.id).toBe('org-00000000-0000-4000-8000-000000000000');
    const { createApiKey } = await t.ok(MintKey, { name: 'first' });
    const closed = await t.request(WhoAmI, {});
    expect(closed.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await t.ok(WhoAmI, {}, { token: createApiKey.key })).organization.name).toBe('default');
  });

  it('AUTH_MODE=disabled serves the default organization even when keys exist', async () => {
    t = await startTestServer({ AUTH_MODE: 'disabled' });
    await t.newOrganization();
    expect((await t.ok(WhoAmI, {})).organization.name).toBe('default');
  });

  it('a server bound to another address requires keys unless auth is disabled', () => {
    expect(authPolicyFor({ AUTH_MODE: 'auto', HOST: '0.0.0.0' })).toBe('required');
    expect(authPolicyFor({ AUTH_MODE: 'auto', HOST: '10.1.2.3' })).toBe('required');
    expect(authPolicyFor({ AUTH_MODE: 'auto', HOST: '127.0.0.1' })).toBe('open-until-keys');
    expect(authPolicyFor({ AUTH_MODE: 'auto', HOST: 'localhost' })).toBe('open-until-keys');
    expect(authPolicyFor({ AUTH_MODE: 'disabled', HOST: '0.0.0.0' })).toBe('disabled');
    expect(authPolicyFor({ AUTH_MODE: 'required', HOST: '127.0.0.1' })).toBe('required');
  });
});
