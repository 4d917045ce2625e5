import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const CreateNamed = graphql(`
  mutation CreateNamed($input: CreateAgentInput!) { createAgent(input: $input) { agent { id name } } }
`);
const AgentById = graphql(`
  query AgentById($id: ID!) { agent(id: $id) { id name } }
`);
const RenameAgent = graphql(`
  mutation RenameAgent($id: ID!, $name: String) { updateAgent(input: { id: $id, name: $name }) { agent { id name } } }
`);

const UNKNOWN_AGENT = 'agent-00000000-0000-4000-8000-000000000000';

describe('typed errors for bad input', () => {
  let t: TestServer;
  let agentId: string;
  beforeAll(async () => {
    t = await startTestServer();
    agentId = (await t.ok(CreateNamed, { input: { name: 'errors' } })).createAgent.agent.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a malformed id is BAD_USER_INPUT naming the expected form', async () => {
    for (const id of ['agent-123', 'block-00000000-0000-4000-8000-000000000000', 'AGENT-00000000-0000-4000-8000-000000000000', '']) {
      const result = await t.request(AgentById, { id });
      expect(result.errors?.[0]?.extensions?.code, id).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toContain("'agent-<uuid4>'");
    }
    // node(id:) looks anything up: an id that names no node is simply null.
    const node = await t.request('query { node(id: "nonsense") { id } }');
    expect(node).toMatchObject({ data: { node: null } });
    expect(node.errors).toBeUndefined();
  });

  it('a well-formed unknown id is NOT_FOUND', async () => {
    const result = await t.request(AgentById, { id: UNKNOWN_AGENT });
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(result.errors?.[0]?.message).toBe(`Agent ${UNKNOWN_AGENT} not found`);
    const update = await t.request(RenameAgent, { id: UNKNOWN_AGENT, name: 'x' });
    expect(update.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const del = await t.request(`mutation { deleteAgent(input: { id: "${UNKNOWN_AGENT}" }) { deletedAgentId } }`);
    expect(del.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('invalid input fields are BAD_USER_INPUT with the field path and reason', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ name: 'bad/name!' }, 'input.name', 'letters'],
      [{ name: '   ' }, 'input.name', 'empty'],
      [{ timezone: 'Mars/Olympus' }, 'input.timezone', 'IANA'],
      [{ model: 'gpt-4o' }, 'input.model', "'provider/model'"],
      [{ tags: ['ok', ''] }, 'input.tags.1', 'empty'],
      [{ metadata: [1, 2] }, 'input.metadata', ''],
      [{ maxFilesOpen: 0 }, 'input.maxFilesOpen', ''],
    ];
    for (const [input, path, reason] of cases) {
      const result = await t.request(CreateNamed, { input });
      expect(result.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', path });
      expect(result.errors?.[0]?.message).toContain(reason);
    }
    const nullName = await t.request(RenameAgent, { id: agentId, name: null });
    expect(nullName.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'input.name' });
    // nothing was written by the refused requests
    expect((await t.ok(AgentById, { id: agentId })).agent?.name).toBe('errors');
  });

  it('variables of the wrong type and unknown fields are BAD_USER_INPUT', async () => {
    const wrongType = await t.request(CreateNamed, { input: { name: 42, tags: 'x' } } as never);
    expect(wrongType.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknownField = await t.request('query { agents { edges { node { nope } } } }');
    expect(unknownField.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(unknownField.errors?.[0]?.message).toContain('nope');
  });

  it('a syntactically broken query is BAD_USER_INPUT, not a 500', async () => {
    const result = await t.request('query { agents { edges { node { id }');
    expect(result.status).toBeLessThan(500);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_PARSE_FAILED' });
    expect(result.errors?.[0]?.message).toMatch(/Syntax Error/);
  });

  it('a body that is not JSON is refused with a code', async () => {
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBeLessThan(500);
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('a query of 10 MB is PAYLOAD_TOO_LARGE and the server keeps serving', async () => {
    const query = `query { agents { totalCount } } # ${'x'.repeat(10 * 1024 * 1024)}`;
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await t.ok(AgentById, { id: agentId })).agent?.name).toBe('errors');
  });

  it('a chunked body over the limit is refused too', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(1024 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ >= 4) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
  });

  it('queries too deep, with too many aliases or too many tokens are refused', async () => {
    const deep = `query { ${'node(id: "x") { ... on Agent { '.repeat(20)} id ${'} }'.repeat(20)} }`;
    const depth = await t.request(deep);
    expect(depth.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(depth.errors?.[0]?.message).toMatch(/depth/i);

    const aliases = `query { ${Array.from({ length: 40 }, (_, i) => `a${i}: agentCount`).join(' ')} }`;
    const aliased = await t.request(aliases);
    expect(aliased.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(aliased.errors?.[0]?.message).toMatch(/alias/i);

    const tokens = `query { agentCount ${'__typename '.repeat(6000)} }`;
    const many = await t.request(tokens);
    expect(many.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(many.errors?.[0]?.message).toMatch(/token/i);
  });

  it('an unknown route is a coded 404', async () => {
    const response = await fetch(new URL('/v2/nothing', t.url));
    expect(response.status).toBe(404);
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('NOT_FOUND');
  });
});

describe('GraphiQL', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is served to browsers without any CDN', async () => {
    const response = await fetch(t.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<title>agentgraph</title>');
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
    expect(html).not.toMatch(/<link[^>]+href="https?:/);
  });
});
