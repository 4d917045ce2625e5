import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const CreateToolAgent = graphql(`
  mutation CreateToolAgent($input: CreateAgentInput!) {
    createAgent(input: $input) { agent { id agentType tools { id name toolType } toolRules memory } }
  }
`);
const ListTools = graphql(`
  query ListTools($filter: ToolFilter) { tools(first: 100, filter: $filter) { edges { node { id name toolType builtIn parameters jsonSchema } } } }
`);
const CreateTool = graphql(`
  mutation CreateTool($input: CreateToolInput!) { createTool(input: $input) { tool { id name description toolType builtIn parameters jsonSchema } } }
`);
const AttachTool = graphql(`
  mutation AttachTool($agentId: ID!, $toolId: ID!) { attachTool(input: { agentId: $agentId, toolId: $toolId }) { changed agent { tools { name } } tool { name } } }
`);
const DetachTool = graphql(`
  mutation DetachTool($agentId: ID!, $toolId: ID!) { detachTool(input: { agentId: $agentId, toolId: $toolId }) { changed agent { tools { name } } } }
`);
const Approval = graphql(`
  mutation Approval($agentId: ID!, $toolName: String!, $requiresApproval: Boolean!) {
    setToolApproval(input: { agentId: $agentId, toolName: $toolName, requiresApproval: $requiresApproval }) {
      requiresApproval tool { name } agent { attachedTools { tool { name } requiresApproval } }
    }
  }
`);
const SetRules = graphql(`
  mutation SetRules($id: ID!, $rules: JSON) { updateAgent(input: { id: $id, toolRules: $rules }) { agent { toolRules memory systemPrompt } } }
`);
const DeleteTool = graphql(`
  mutation DeleteTool($id: ID!) { deleteTool(input: { id: $id }) { deletedToolId } }
`);
const ToolById = graphql(`
  query ToolById($id: ID!) { tool(id: $id) { id name } node(id: $id) { __typename id } }
`);

const names = (tools: Array<{ name: string }>) => tools.map((tool) => tool.name).sort();

describe('tools', () => {
  let t: TestServer;
  let builtins: Map<string, string>;
  beforeAll(async () => {
    t = await startTestServer();
    const { tools } = await t.ok(ListTools, { filter: {} });
    builtins = new Map(tools.edges.map((edge) => [edge.node.name, edge.node.id]));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('registers the built-in tools with their argument schemas', async () => {
    for (const name of ['send_message', 'conversation_search', 'memory_replace', 'memory_insert', 'memory_rethink', 'core_memory_append', 'core_memory_replace', 'archival_memory_insert', 'archival_memory_search', 'open_files', 'grep_files', 'semantic_search_files']) {
      expect(builtins.has(name), name).toBe(true);
    }
    const { tools } = await t.ok(ListTools, { filter: { name: 'memory_replace' } });
    const tool = tools.edges[0]!.node;
    expect(tool.builtIn).toBe(true);
    expect(tool.parameters).toMatchObject({ type: 'object', required: expect.arrayContaining(['label', 'old_string', 'new_string']) });
    expect(tool.jsonSchema).toMatchObject({ name: 'memory_replace', parameters: tool.parameters });
    const byId = await t.ok(ToolById, { id: tool.id });
    expect(byId.node).toEqual({ __typename: 'Tool', id: tool.id });
  });

  it('gives each agent type its base tools, and exactly the requested ones without them', async () => {
    const v1 = (await t.ok(CreateToolAgent, { input: {} })).createAgent.agent;
    expect(names(v1.tools)).toEqual(['conversation_search', 'memory_insert', 'memory_replace']);
    const v2 = (await t.ok(CreateToolAgent, { input: { agentType: 'MEMGPT_V2_AGENT' } })).createAgent.agent;
    expect(names(v2.tools)).toEqual(['conversation_search', 'memory_insert', 'memory_replace', 'send_message']);
    const react = (await t.ok(CreateToolAgent, { input: { agentType: 'REACT_AGENT' } })).createAgent.agent;
    expect(react.tools).toEqual([]);

    const only = (await t.ok(CreateToolAgent, {
      input: { includeBaseTools: false, toolIds: [builtins.get('archival_memory_insert')!, builtins.get('archival_memory_search')!] },
    })).createAgent.agent;
    expect(names(only.tools)).toEqual(['archival_memory_insert', 'archival_memory_search']);
    const byName = (await t.ok(CreateToolAgent, { input: { tools: ['send_message'] } })).createAgent.agent;
    expect(names(byName.tools)).toEqual(['conversation_search', 'memory_insert', 'memory_replace', 'send_message']);

    const unknownName = await t.request(CreateToolAgent, { input: { tools: ['no_such_tool'] } });
    expect(unknownName.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(unknownName.errors?.[0]?.message).toContain('no_such_tool');
    const badId = await t.request(CreateToolAgent, { input: { toolIds: ['tool-1'] } });
    expect(badId.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'input.toolIds.0' });
  });

  it('creates client-side tools and validates their JSON Schema', async () => {
    const parameters = { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] };
    const { createTool } = await t.ok(CreateTool, { input: { name: 'get_weather', description: 'Weather for a city', parameters } });
    expect(createTool.tool).toMatchObject({ name: 'get_weather', toolType: 'CUSTOM', builtIn: false, parameters });
    expect(createTool.tool.jsonSchema).toEqual({ name: 'get_weather', description: 'Weather for a city', parameters });

    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ name: 'bad_schema', description: 'd', parameters: { type: 'object', properties: { x: { type: 'not-a-type' } } } }, 'input.parameters', 'not valid JSON Schema'],
      [{ name: 'bad_schema2', description: 'd', parameters: { type: 'object', required: 'city' } }, 'input.parameters', 'not valid JSON Schema'],
      [{ name: 'not_object', description: 'd', parameters: { type: 'string' } }, 'input.parameters', 'object'],
      [{ name: 'has space', description: 'd' }, 'input.name', ''],
      [{ name: 'x'.repeat(49), description: 'd' }, 'input.name', '48'],
      [{ name: 'nodesc', description: '' }, 'input.description', ''],
    ];
    for (const [input, path, reason] of cases) {
      const result = await t.request(CreateTool, { input } as never);
      expect(result.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', path });
      expect(result.errors?.[0]?.message).toContain(reason);
    }
    const duplicate = await t.request(CreateTool, { input: { name: 'get_weather', description: 'again' } });
    expect(duplicate.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const builtinName = await t.request(CreateTool, { input: { name: 'send_message', description: 'mine' } });
    expect(builtinName.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('attaches, detaches (idempotently), requires approval, and deletes tools', async () => {
    const agent = (await t.ok(CreateToolAgent, { input: { includeBaseTools: false } })).createAgent.agent;
    const tool = (await t.ok(CreateTool, { input: { name: 'lights_off', description: 'Turns the lights off' } })).createTool.tool;
    const attached = await t.ok(AttachTool, { agentId: agent.id, toolId: tool.id });
    expect(attached.attachTool).toMatchObject({ changed: true, tool: { name: 'lights_off' } });
    expect(names(attached.attachTool.agent.tools)).toEqual(['lights_off']);
    expect((await t.ok(AttachTool, { agentId: agent.id, toolId: tool.id })).attachTool.changed).toBe(false);

    const approval = await t.ok(Approval, { agentId: agent.id, toolName: 'lights_off', requiresApproval: true });
    expect(approval.setToolApproval.requiresApproval).toBe(true);
    expect(approval.setToolApproval.agent.attachedTools).toEqual([{ tool: { name: 'lights_off' }, requiresApproval: true }]);
    const off = await t.ok(Approval, { agentId: agent.id, toolName: 'lights_off', requiresApproval: false });
    expect(off.setToolApproval.agent.attachedTools[0]?.requiresApproval).toBe(false);
    const notAttached = await t.request(Approval, { agentId: agent.id, toolName: 'send_message', requiresApproval: true });
    expect(notAttached.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(notAttached.errors?.[0]?.message).toContain('send_message');

    const detached = await t.ok(DetachTool, { agentId: agent.id, toolId: tool.id });
    expect(detached.detachTool).toMatchObject({ changed: true, agent: { tools: [] } });
    expect((await t.ok(DetachTool, { agentId: agent.id, toolId: tool.id })).detachTool.changed).toBe(false);

    await t.ok(AttachTool, { agentId: agent.id, toolId: tool.id });
    await t.ok(DeleteTool, { id: tool.id });
    expect((await t.request(ToolById, { id: tool.id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const builtin = await t.request(DeleteTool, { id: builtins.get('send_message')! });
    expect(builtin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('stores tool rules, renders them into the prompt, and validates them', async () => {
    const rules = [
      { type: 'exit_loop', tool_name: 'send_message' },
      { type: 'max_count_per_step', tool_name: 'memory_insert', max_count_limit: 2 },
    ];
    const agent = (await t.ok(CreateToolAgent, { input: { tools: ['send_message'], toolRules: rules } })).createAgent.agent;
    expect(agent.toolRules).toEqual(expect.arrayContaining(rules.map((rule) => expect.objectContaining(rule))));
    expect(agent.memory).toContain('<tool_usage_rules>');
    expect(agent.memory).toContain('send_message');

    const updated = await t.ok(SetRules, { id: agent.id, rules: [{ type: 'continue_loop', tool_name: 'memory_replace' }] });
    expect(updated.updateAgent.agent.toolRules).toEqual([{ type: 'continue_loop', tool_name: 'memory_replace' }]);
    expect(updated.updateAgent.agent.systemPrompt).toContain('memory_replace');
    expect(updated.updateAgent.agent.systemPrompt).not.toContain('at most 2');

    for (const bad of [[{ type: 'exit_loop' }], [{ type: 'teleport', tool_name: 'x' }], [{ type: 'max_count_per_step', tool_name: 'x', max_count_limit: 0 }], { type: 'exit_loop' }]) {
      const result = await t.request(SetRules, { id: agent.id, rules: bad });
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(bad)).toBe('BAD_USER_INPUT');
      expect(String(result.errors?.[0]?.extensions?.path)).toMatch(/^input\.toolRules/);
    }
  });
});

describe('tools across organizations', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ AUTH_MODE: 'required' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("cannot attach or see another organization's tool", async () => {
    const acme = await t.newOrganization();
    const globex = await t.newOrganization();
    const theirs = (await t.ok(CreateTool, { input: { name: 'secret_tool', description: 'theirs' } }, { token: globex.token })).createTool.tool;
    const agent = (await t.ok(CreateToolAgent, { input: {} }, { token: acme.token })).createAgent.agent;
    expect((await t.request(AttachTool, { agentId: agent.id, toolId: theirs.id }, { token: acme.token })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await t.request(ToolById, { id: theirs.id }, { token: acme.token })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await t.request(CreateToolAgent, { input: { toolIds: [theirs.id] } }, { token: acme.token })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const mine = await t.ok(ListTools, { filter: { name: 'secret_tool' } }, { token: acme.token });
    expect(mine.tools.edges).toEqual([]);
    // each organization has its own copy of the built-ins
    const acmeSend = await t.ok(ListTools, { filter: { name: 'send_message' } }, { token: acme.token });
    const globexSend = await t.ok(ListTools, { filter: { name: 'send_message' } }, { token: globex.token });
    expect(acmeSend.tools.edges[0]?.node.id).not.toBe(globexSend.tools.edges[0]?.node.id);
  });
});
