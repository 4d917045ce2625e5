import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { FIXTURE_FILES, fixtureJson, fixtureText, uploadRequest } from './helpers/agent-files.js';

const ImportUpload = graphql(`
  mutation ImportUpload($file: Upload) {
    importAgent(input: { file: $file }) { agentIds agents { id name } }
  }
`);
const ImportJson = graphql(`
  mutation ImportJson($input: ImportAgentInput!) {
    importAgent(input: $input) { agentIds }
  }
`);
const ImportedAgent = graphql(`
  query ImportedAgent($id: ID!) {
    agent(id: $id) {
      id name agentType system description model timezone toolRules systemPrompt
      blocks { id label value description limit readOnly agents { id } }
      tools { name toolType description sourceType sourceCode parameters }
      attachedTools { requiresApproval tool { name } }
      messages(first: 500) { edges { node { __typename ... on UserMessage { content } ... on SystemMessage { content } } } }
    }
  }
`);
const Export = graphql(`
  query ExportOne($id: ID!) { exportAgent(id: $id) }
`);
const ToolsNamed = graphql(`
  query ToolsNamed($name: String!) { tools(first: 5, filter: { name: $name }) { edges { node { id name sourceCode } } } }
`);
const AgentsNamed = graphql(`
  query AgentsNamed($name: String!) { agentCount(filter: { name: $name }) }
`);

type FileAgent = { id: string; name: string; block_ids: string[]; tool_ids: string[]; messages: any[]; in_context_message_ids: string[]; system: string; agent_type: string; source_ids?: string[] };

describe('agent files: every Letta fixture imports', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(FIXTURE_FILES)('%s imports and its agents answer with the content of the file', async (name) => {
    const doc = fixtureJson(name);
    const result = await uploadRequest<{ importAgent: { agentIds: string[]; agents: { id: string; name: string }[] } }>(t, ImportUpload, fixtureText(name), {}, { fileName: name });
    expect(result.errors).toBeUndefined();
    const { agentIds, agents } = result.data!.importAgent;
    expect(agentIds).toHaveLength(doc.agents.length);
    expect(agents.map((agent) => agent.name)).toEqual(doc.agents.map((agent: FileAgent) => agent.name));

    const blocksById = new Map<string, any>(doc.blocks.map((block: any) => [block.id, block]));
    const toolsById = new Map<string, any>(doc.tools.map((tool: any) => [tool.id, tool]));
    const importedBlockIds = new Map<string, string>();
    for (const [index, fileAgent] of (doc.agents as FileAgent[]).entries()) {
      const { agent } = await t.ok(ImportedAgent, { id: agentIds[index]! });
      expect(agent!.agentType).toBe(fileAgent.agent_type.toUpperCase());
      expect(agent!.system).toBe(fileAgent.system);

      // Blocks: the labels, values, limits and flags of the file.
      const expectedBlocks = fileAgent.block_ids.map((id) => blocksById.get(id));
      expect(agent!.blocks.map((block) => block.label).sort()).toEqual(expectedBlocks.map((block) => block.label).sort());
      for (const expected of expectedBlocks) {
        const block = agent!.blocks.find((candidate) => candidate.label === expected.label)!;
        expect(block.value).toBe(expected.value);
        expect(block.limit).toBe(expected.limit);
        expect(block.readOnly).toBe(expected.read_only);
        expect(block.description).toBe(expected.description);
        expect(agent!.systemPrompt).toContain(expected.value.split('\n')[0]);
        // A block the file gives to several agents is one block after import.
        const fileBlockId = fileAgent.block_ids.find((id) => blocksById.get(id).label === expected.label)!;
        if (importedBlockIds.has(fileBlockId)) expect(block.id).toBe(importedBlockIds.get(fileBlockId));
        importedBlockIds.set(fileBlockId, block.id);
      }

      // Tools: matched by name; custom tools keep their source code (stored, not run).
      const expectedTools = fileAgent.tool_ids.map((id) => toolsById.get(id));
      expect(agent!.tools.map((tool) => tool.name).sort()).toEqual(expectedTools.map((tool) => tool.name).sort());
      for (const expected of expectedTools.filter((tool) => tool.tool_type === 'custom')) {
        const tool = agent!.tools.find((candidate) => candidate.name === expected.name)!;
        expect(tool.toolType).toBe('CUSTOM');
        expect(tool.sourceCode).toBe(expected.source_code);
        expect(tool.description).toBe(expected.description);
        expect(tool.parameters).toEqual(expected.json_schema.parameters);
      }

      // Messages: the history of the file, the system message rebuilt from the imported blocks.
      const nodes = agent!.messages.edges.map((edge) => edge.node);
      expect(nodes[0]!.__typename).toBe('SystemMessage');
      // A multi-part user message reads as its text parts joined with newlines.
      const fileUserTexts = fileAgent.messages
        .filter((message) => message.role === 'user')
        .map((message) => message.content.filter((part: any) => part.type === 'text').map((part: any) => part.text).join('\n'));
      const userTexts = nodes.filter((node) => node.__typename === 'UserMessage').map((node) => (node as { content: string }).content);
      expect(userTexts).toEqual(fileUserTexts);
      // Every stored message shows (send_message's tool returns are folded into the assistant message, as in Letta).
      const sendCalls = new Set(fileAgent.messages.flatMap((message) => (message.tool_calls ?? []).filter((call: any) => call.function.name === 'send_message').map((call: any) => call.id)));
      const folded = fileAgent.messages.filter((message) => message.role === 'tool' && sendCalls.has(message.tool_call_id)).length;
      expect(nodes.length).toBeGreaterThanOrEqual(Math.max(1, fileAgent.messages.length - folded));
    }

    // Folders and files travel with their content, and are chunked and embedded again.
    await t.app.runtime.fileJobs.idle();
    const exported = (await t.ok(Export, { id: agentIds[0]! })).exportAgent as any;
    expect(exported.sources.map((source: any) => source.name)).toEqual(doc.sources.map((source: any) => source.name));
    expect(exported.files).toHaveLength(doc.files.length);
    for (const [index, file] of doc.files.entries()) {
      expect(exported.files[index].content).toBe(file.content);
      expect(exported.files[index].file_name).toBe(file.file_name);
      expect(exported.files[index].processing_status).toBe('completed');
    }
    const fileViews = (doc.agents[0] as { files_agents: any[] }).files_agents;
    expect(exported.agents[0].files_agents.map((view: any) => view.visible_content)).toEqual(fileViews.map((view) => view.visible_content));
    expect(exported.groups.map((group: any) => group.manager_config.manager_type)).toEqual(doc.groups.map((group: any) => group.manager_config.manager_type));
  });

  it('keeps the groups of a file: evie and its sleeptime agent come back together', async () => {
    const doc = fixtureJson('evie.af');
    const member = doc.agents[1];
    member.messages.push({ id: 'message-in-group', role: 'user', content: [{ type: 'text', text: 'from the group' }], group_id: 'group-0' });
    member.in_context_message_ids.push('message-in-group');
    const { importAgent } = await t.ok(ImportJson, { input: { json: doc } });
    const exported = (await t.ok(Export, { id: importAgent.agentIds[0]! })).exportAgent as any;
    const inGroup = exported.agents[1].messages.filter((message: any) => message.group_id);
    expect(inGroup.map((message: any) => [message.content[0].text, message.group_id])).toEqual([['from the group', 'group-0']]);
    expect(exported.agents.map((agent: any) => agent.name)).toEqual(['Evie', 'companion-sleeptime_copy']);
    expect(exported.groups).toEqual([
      expect.objectContaining({ id: 'group-0', agent_ids: ['agent-1'], manager_config: { manager_type: 'sleeptime', manager_agent_id: 'agent-0', sleeptime_agent_frequency: 5 } }),
    ]);
    expect(exported.agents[0].group_ids).toEqual(['group-0']);
  });

  it('keeps a block shared by two agents shared: one row, shown to both, an edit seen by both', async () => {
    const doc = fixtureJson('evie.af');
    const sharedLabels = doc.blocks
      .filter((block: any) => doc.agents.every((agent: FileAgent) => agent.block_ids.includes(block.id)))
      .map((block: any) => block.label);
    expect(sharedLabels.length).toBeGreaterThan(1);
    const [evie, sleeptime] = (await t.ok(ImportJson, { input: { json: doc } })).importAgent.agentIds as [string, string];
    const { agent } = await t.ok(ImportedAgent, { id: evie });
    for (const label of sharedLabels) {
      const block = agent!.blocks.find((candidate) => candidate.label === label)!;
      expect(block.agents.map((owner) => owner.id).sort()).toEqual([evie, sleeptime].sort());
    }
    const edited = agent!.blocks.find((block) => sharedLabels.includes(block.label) && !block.readOnly)!;
    await t.ok(graphql(`mutation EditShared($id: ID!) { updateBlock(input: { id: $id, value: "edited once" }) { block { id } } }`), { id: edited.id });
    const other = (await t.ok(ImportedAgent, { id: sleeptime })).agent!;
    expect(other.blocks.find((block) => block.label === edited.label)!.value).toBe('edited once');
    expect(other.systemPrompt).toContain('edited once');
  });

  it('two imports of one file at once both succeed and leave exactly two copies (a collided attempt leaves nothing)', async () => {
    const doc = fixtureJson('void.af');
    doc.agents[0].name = 'void-twin';
    doc.sources[0].name = 'twin-folder';
    doc.tools.find((tool: any) => tool.name === 'post_to_x').name = 'post_to_x_twin';
    const results = await Promise.all([t.request(ImportJson, { input: { json: doc } }), t.request(ImportJson, { input: { json: doc } })]);
    expect(results.map((result) => result.errors)).toEqual([undefined, undefined]);
    expect((await t.ok(AgentsNamed, { name: 'void-twin' })).agentCount).toBe(2);
    expect((await t.ok(ToolsNamed, { name: 'post_to_x_twin' })).tools.edges).toHaveLength(1);
    const label = doc.blocks[0].label;
    const blocks = await t.ok(graphql(`query TwinBlocks($label: String!) { blocks(first: 50, filter: { label: $label }) { edges { node { id agents { name } } } } }`), { label });
    const twins = blocks.blocks.edges.filter((edge) => edge.node.agents.some((agent) => agent.name === 'void-twin'));
    expect(twins).toHaveLength(2);
    const folders = await Promise.all(results.map(async (result) => ((await t.ok(Export, { id: (result.data as any).importAgent.agentIds[0] })).exportAgent as any).sources[0].name));
    expect(folders.sort()).toEqual(['twin-folder', expect.stringMatching(/^twin-folder_[0-9a-f]{8}$/)]);
  });

  it('accepts the file as JSON, as a JSON string and double-encoded, and applies the options', async () => {
    const text = fixtureText('memgpt_agent.af'); // double-encoded by Letta
    const asString = await t.ok(ImportJson, { input: { json: text, name: 'renamed', model: 'openai/gpt-4.1-mini', secrets: { API_KEY: 'k' } } });
    const { agent } = await t.ok(ImportedAgent, { id: asString.importAgent.agentIds[0]! });
    expect(agent).toMatchObject({ name: 'renamed', model: 'openai/gpt-4.1-mini' });
    const asObject = await t.ok(ImportJson, { input: { json: fixtureJson('memgpt_agent.af'), appendCopySuffix: true, stripMessages: true } });
    const copy = (await t.ok(ImportedAgent, { id: asObject.importAgent.agentIds[0]! })).agent!;
    expect(copy.name).toBe('memgpt_agent_copy');
    expect(copy.messages.edges.map((edge) => edge.node.__typename)).toEqual(['SystemMessage']);
    expect(copy.model).toBe('openai/gpt-4o-mini'); // from the file's llm_config
  });

  it('drops NUL characters, which PostgreSQL cannot store, from every string of the file', async () => {
    const doc = fixtureJson('memgpt_agent.af');
    doc.agents[0].name = 'nul\u0000agent';
    doc.blocks[0].value = 'before\u0000after';
    doc.agents[0].messages.push({ id: 'message-nul', role: 'user', content: [{ type: 'text', text: 'hi\u0000there' }] });
    doc.agents[0].in_context_message_ids.push('message-nul');
    const { agent } = await t.ok(ImportedAgent, { id: (await t.ok(ImportJson, { input: { json: doc } })).importAgent.agentIds[0]! });
    expect(agent!.name).toBe('nulagent');
    expect(agent!.blocks.find((block) => block.label === doc.blocks[0].label)!.value).toBe('beforeafter');
    expect(agent!.messages.edges.map((edge) => edge.node)).toContainEqual({ __typename: 'UserMessage', content: 'hithere' });
  });

  it('matches tools by name: custom tools take the file definition unless told not to; built-ins never change', async () => {
    const doc = fixtureJson('customer_service.af');
    const custom = doc.tools.find((tool: any) => tool.name === 'check_order_status');
    custom.source_code = 'def check_order_status(order_number: int):\n    """v1"""\n    raise SystemExit("never run")\n';
    await t.ok(ImportJson, { input: { json: doc } });
    const edited = structuredClone(doc);
    edited.tools.find((tool: any) => tool.name === 'check_order_status').source_code = '# v2';
    edited.tools.find((tool: any) => tool.name === 'memory_insert').description = 'hijacked';
    await t.ok(ImportJson, { input: { json: edited, overrideExistingTools: false } });
    let tools = (await t.ok(ToolsNamed, { name: 'check_order_status' })).tools.edges;
    expect(tools).toHaveLength(1);
    expect(tools[0]!.node.sourceCode).toContain('v1');
    await t.ok(ImportJson, { input: { json: edited } });
    tools = (await t.ok(ToolsNamed, { name: 'check_order_status' })).tools.edges;
    expect(tools[0]!.node.sourceCode).toBe('# v2');
    const memoryInsert = await t.request(graphql(`query BuiltinTool { tools(first: 1, filter: { name: "memory_insert" }) { edges { node { description builtIn } } } }`));
    expect(memoryInsert.data!.tools.edges[0]!.node.builtIn).toBe(true);
    expect(memoryInsert.data!.tools.edges[0]!.node.description).not.toBe('hijacked');
  });
});

describe('agent files: bad input', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ MAX_BODY_BYTES: String(4 * 1024 * 1024) });
  });
  afterAll(async () => {
    await t?.close();
  });

  const problemsOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
    (result.errors?.[0]?.extensions?.problems ?? []) as Array<{ path: string; message: string }>;

  it('refuses a file that is not JSON', async () => {
    const result = await uploadRequest(t, ImportUpload, '{"agents": [ this is not json');
    expect(result.status).toBe(200);
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors![0]!.message).toMatch(/^Corrupted agent file format: not JSON/);
  });

  it('refuses JSON that is not an agent file', async () => {
    for (const json of [{ hello: 'world' }, [1, 2, 3], 42, { agents: 'nope' }]) {
      const result = await t.request(ImportJson, { input: { json } });
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors![0]!.message).toMatch(/agent file|agents/);
    }
    const empty = await t.request(ImportJson, { input: { json: { agents: [] } } });
    expect(problemsOf(empty)).toEqual([{ path: 'agents', message: 'must hold at least one agent' }]);
    // All agents are written in one transaction; export has the same bound.
    const crowd = await t.request(ImportJson, { input: { json: { agents: Array.from({ length: 101 }, (_, n) => ({ id: `agent-${n}`, name: `crowd ${n}` })) } } });
    expect(problemsOf(crowd)).toEqual([{ path: 'agents', message: 'must hold at most 100 agents' }]);
  });

  it('refuses the legacy single-agent format and says which format it expects', async () => {
    const legacy = {
      name: 'old-agent',
      agent_type: 'memgpt_agent',
      core_memory: [{ label: 'human', value: 'Ada' }],
      llm_config: { model: 'gpt-4', context_window: 8192 },
      messages: [],
      tools: [],
    };
    const result = await uploadRequest(t, ImportUpload, JSON.stringify(legacy));
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain("legacy single-agent format");
    expect(result.errors![0]!.message).toContain("multi-entity agent file: a JSON object with an 'agents' list");
  });

  it('refuses an unknown tool type, naming the tool', async () => {
    const doc = fixtureJson('memgpt_agent.af');
    doc.tools[1].tool_type = 'quantum_core';
    const result = await t.request(ImportJson, { input: { json: doc } });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(problemsOf(result)).toEqual([{ path: 'tools.1.tool_type', message: expect.stringContaining('unknown tool type "quantum_core"') }]);
  });

  it('holds tools, blocks and agents to the rules of createTool, createBlock and createAgent', async () => {
    const doc = fixtureJson('customer_service.af');
    const custom = doc.tools.findIndex((tool: any) => tool.tool_type === 'custom');
    doc.tools[custom].name = 'check order!'; // the model is sent tool names
    doc.tools[custom].json_schema.parameters = { type: 'string' }; // and their parameters
    doc.blocks[0].label = 'my <label>'; // a label becomes a tag of the system prompt
    doc.blocks[1].limit = 0;
    doc.agents[0].model = 'gpt-4'; // not 'provider/model'
    doc.agents[0].timezone = 'Mars/Olympus';
    const result = await t.request(ImportJson, { input: { json: doc } });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(problemsOf(result).map((problem) => problem.path).sort()).toEqual(
      ['agents.0.model', 'agents.0.timezone', 'blocks.0.label', 'blocks.1.limit', `tools.${custom}.json_schema.parameters`, `tools.${custom}.name`].sort(),
    );
    expect((await t.ok(AgentsNamed, { name: doc.agents[0].name })).agentCount).toBe(0);
  });

  it('lists every problem at once: bad id prefixes, duplicates and dangling references', async () => {
    const doc = fixtureJson('deep_research_agent.af');
    doc.blocks[0].id = 'blk-0'; // bad prefix
    doc.tools[1].id = doc.tools[0].id; // duplicate
    doc.agents[0].tool_ids.push('tool-99'); // dangling
    doc.agents[0].in_context_message_ids.push('message-42'); // not one of its messages
    doc.files = [{ id: 'file-0', source_id: 'source-7', file_name: 'a.txt', content: 'x' }]; // unknown source
    doc.agents[0].files_agents = [{ id: 'file_agent-0', agent_id: 'agent-3', file_id: 'file-5', source_id: 'source-7', file_name: 'a.txt' }];
    const result = await t.request(ImportJson, { input: { json: doc } });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const problems = problemsOf(result);
    const paths = problems.map((problem) => problem.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'blocks.0.id',
        'tools.1.id',
        'agents.0.tool_ids.5',
        'agents.0.in_context_message_ids.1',
        'files.0.source_id',
        'agents.0.files_agents.0.agent_id',
        'agents.0.files_agents.0.file_id',
        'agents.0.files_agents.0.source_id',
      ]),
    );
    expect(problems.find((problem) => problem.path === 'tools.1.id')!.message).toContain(`duplicate id '${doc.tools[0].id}' (already used at tools.0.id)`);
    expect(problems.find((problem) => problem.path === 'blocks.0.id')!.message).toContain("'block-<n>'");
    expect(result.errors![0]!.message).toMatch(/^Invalid agent file \(\d+ problems\)/);
    // Nothing of the refused file was written.
    expect((await t.ok(AgentsNamed, { name: doc.agents[0].name })).agentCount).toBe(0);
    expect((await t.ok(ToolsNamed, { name: 'create_research_plan' })).tools.edges).toHaveLength(0);
  });

  it('refuses a 50 MB file with PAYLOAD_TOO_LARGE', async () => {
    const big = new Blob([`{"agents": [], "padding": "${'x'.repeat(50 * 1024 * 1024)}"}`], { type: 'application/json' });
    const result = await uploadRequest(t, ImportUpload, big);
    expect(result.status).toBe(413);
    expect(result.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    // The server is still fine afterwards.
    expect((await t.ok(AgentsNamed, { name: 'anything' })).agentCount).toBe(0);
  });

  it('refuses bad options and both or neither of file and json', async () => {
    const doc = fixtureJson('evie.af');
    const renamed = await t.request(ImportJson, { input: { json: doc, name: 'one' } });
    expect(problemsOf(renamed)[0]).toMatchObject({ path: 'input.name' });
    const badModel = await t.request(ImportJson, { input: { json: doc, model: 'gpt-4' } });
    expect(badModel.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', path: 'input.model' } });
    const neither = await t.request(ImportJson, { input: {} });
    expect(neither.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const both = await uploadRequest(t, graphql(`mutation ImportBoth($file: Upload, $json: JSON) { importAgent(input: { file: $file, json: $json }) { agentIds } }`), '{}', { json: {} });
    expect(both.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('export: refuses more agents than an import accepts, counting the members of their groups', async () => {
    const agents = Array.from({ length: 100 }, (_, n) => ({ id: `agent-${n}`, name: `member ${n}` }));
    const groups = [{ id: 'group-0', agent_ids: agents.slice(1).map((agent) => agent.id), manager_config: { manager_type: 'round_robin', manager_agent_id: 'agent-0' } }];
    const [manager] = (await t.ok(ImportJson, { input: { json: { agents, groups } } })).importAgent.agentIds;
    const [loner] = (await t.ok(ImportJson, { input: { json: { agents: [{ id: 'agent-0', name: 'loner' }] } } })).importAgent.agentIds;
    const exported = (await t.ok(Export, { id: manager! })).exportAgent as any;
    expect(exported.agents).toHaveLength(100);
    const tooMany = await t.request(graphql(`query ExportMany($ids: [ID!]!) { exportAgents(ids: $ids) }`), { ids: [loner!, manager!] });
    expect(tooMany.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', path: 'ids' } });
    expect(tooMany.errors![0]!.message).toContain('101 agents');
  });

  it('export: a malformed id is BAD_USER_INPUT, an unknown or foreign one NOT_FOUND', async () => {
    expect((await t.request(Export, { id: 'agent-1' })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.request(Export, { id: 'agent-00000000-0000-4000-8000-000000000000' })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const { importAgent } = await t.ok(ImportJson, { input: { json: fixtureJson('memgpt_agent.af') } });
    const other = await t.newOrganization();
    const foreign = await t.request(Export, { id: importAgent.agentIds[0]! }, { token: other.token });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
