import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { FIXTURE_FILES, fixtureJson } from './helpers/agent-files.js';
import type { ModelServer } from './model-server/server.js';

/**
 * Every real agent file (letta-ai/agent-file) imports, runs a turn with the scripted model and
 * round-trips; the Letta behaviours these files rely on (path-style labels, dangling group ids,
 * skills, foreign message group ids) are tested with files written here to mirror them.
 */

const Import = graphql(`
  mutation RealImport($json: JSON, $model: String) {
    importAgent(input: { json: $json, model: $model }) { agentIds warnings { path message } }
  }
`);
const Export = graphql(`
  query RealExport($ids: [ID!]!) { exportAgents(ids: $ids) }
`);
const Send = graphql(`
  mutation RealSend($input: SendMessageInput!) {
    sendMessage(input: $input) { stopReason messages { __typename ... on AssistantMessage { content } } }
  }
`);
const Memory = graphql(`
  query RealMemory($id: ID!) {
    agent(id: $id) { memory systemPrompt blocks { label value } skills { name files sourceUrl } }
  }
`);

const text = (value: string) => [{ type: 'text', text: value }];

/** What must survive a round trip: everything but ids, the export time and the agent id and time in a compiled prompt. */
function normalize(document: any) {
  const copy = structuredClone(document);
  delete copy.created_at;
  for (const agent of copy.agents) {
    for (const message of agent.messages) {
      if (message.role !== 'system') continue;
      for (const part of message.content ?? []) {
        if (typeof part.text !== 'string') continue;
        part.text = part.text
          .replace(/agent-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g, 'agent-ID')
          .replace(/System prompt last recompiled: .*/g, 'System prompt last recompiled: TIME')
          .replace(/- Memory blocks were last modified: .*/g, '- Memory blocks were last modified: TIME');
      }
    }
  }
  return copy;
}

function expectSameDocument(a: any, b: any, name: string) {
  expect(Object.keys(b).sort(), name).toEqual(Object.keys(a).sort());
  for (const key of Object.keys(a)) {
    if (!Array.isArray(a[key])) {
      expect(b[key], `${name}: ${key}`).toEqual(a[key]);
      continue;
    }
    expect(b[key], `${name}: ${key}.length`).toHaveLength(a[key].length);
    a[key].forEach((entity: any, index: number) => {
      for (const field of new Set([...Object.keys(entity), ...Object.keys(b[key][index])])) {
        expect(b[key][index][field], `${name}: ${key}.${index}.${field}`).toEqual(entity[field]);
      }
    });
  }
}

describe('agent files: every real Letta file', () => {
  let model: ModelServer;
  let t: TestServer;
  /** Our organization, and another one standing for another server. */
  let own: { token: string };
  let elsewhere: { token: string };
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({ MAX_BODY_BYTES: String(8 * 1024 * 1024) }));
    own = await t.newOrganization();
    elsewhere = await t.newOrganization();
  });
  afterAll(async () => {
    await closeAll(t, model);
  });

  it.each(FIXTURE_FILES)('%s imports, runs a turn and round-trips', async (name) => {
    const original = fixtureJson(name);
    const imported = (await t.ok(Import, { json: original, model: 'test/scripted' }, own)).importAgent;
    expect(imported.agentIds).toHaveLength(original.agents.length);

    // The first agent answers a turn with the scripted model (legacy agents through send_message).
    const legacy = ['memgpt_agent', 'memgpt_v2_agent'].includes(original.agents[0].agent_type);
    // An agent whose rules name a built-in tool to run first (void's archival_memory_search) calls it first.
    const builtIn = new Set(original.tools.filter((tool: any) => tool.tool_type !== 'custom').map((tool: any) => tool.name));
    const first_ = (original.agents[0].tool_rules ?? []).find((rule: any) => rule.type === 'run_first' && builtIn.has(rule.tool_name));
    if (first_) model.enqueue({ toolCalls: [{ id: 'c_first', name: first_.tool_name, arguments: { query: 'hi' } }] });
    model.enqueue(legacy ? { toolCalls: [{ id: 'c0', name: 'send_message', arguments: { message: `hello from ${name}` } }] } : { text: `hello from ${name}` });
    const reply = (await t.ok(Send, { input: { agentId: imported.agentIds[0]!, input: 'hi' } }, own)).sendMessage;
    // void's rules want annotate_ack (a tool of its own, not run here) after send_message: its turn ends on a tool rule.
    expect(reply.stopReason).toBe(name === 'void.af' ? 'TOOL_RULE' : 'END_TURN');
    expect(reply.messages).toContainEqual({ __typename: 'AssistantMessage', content: `hello from ${name}` });
    expect(model.pending()).toBe(0);

    await t.app.runtime.fileJobs.idle(); // imported files are chunked and embedded again first
    const first = (await t.ok(Export, { ids: [imported.agentIds[0]!] }, own)).exportAgents as any;
    // What the file said is in the export: every block of every agent (labels as written), skill and group.
    const blocksOf = (doc: any, index: number) =>
      doc.agents[index].block_ids.map((id: string) => doc.blocks.find((block: any) => block.id === id)).map((block: any) => ({ label: block.label, value: block.value, limit: block.limit, read_only: block.read_only ?? false }));
    const byLabel = (a: any, b: any) => a.label.localeCompare(b.label);
    original.agents.forEach((_agent: any, index: number) => expect(blocksOf(first, index).sort(byLabel), `${name}: blocks of agent ${index}`).toEqual(blocksOf(original, index).sort(byLabel)));
    expect(first.skills).toEqual(original.skills ?? []);
    expect(first.groups.map((group: any) => group.manager_config)).toEqual(original.groups.map((group: any) => group.manager_config));
    expect(first.agents.map((agent: any) => agent.name)).toEqual(original.agents.map((agent: any) => agent.name));
    // Messages keep their group ids: a group of the file by its local id, any other by the id the file gives.
    for (const [index, agent] of original.agents.entries()) {
      const groupIdsOf = (messages: any[]) => messages.map((message: any) => message.group_id ?? null);
      expect(groupIdsOf(first.agents[index].messages).slice(0, agent.messages.length), `${name}: group ids`).toEqual(groupIdsOf(agent.messages));
    }

    // Elsewhere (another organization), the export imports and exports again to the same document.
    const { token } = elsewhere;
    const again = (await t.ok(Import, { json: first }, { token })).importAgent;
    expect(again.warnings).toEqual([]);
    await t.app.runtime.fileJobs.idle();
    const second = (await t.ok(Export, { ids: [again.agentIds[0]!] }, { token })).exportAgents as any;
    expectSameDocument(normalize(first), normalize(second), name);
  });

  it('path-style labels (system/persona, reference/faq, /note_directory): compiled memory, memory tools and round trip', async () => {
    const file = {
      agents: [
        {
          id: 'agent-0',
          name: 'paths',
          agent_type: 'letta_v1_agent',
          system: 'You are a memory-filesystem agent.\n{CORE_MEMORY}',
          llm_config: { model: 'scripted', model_endpoint_type: 'openai', context_window: 32000, handle: 'test/scripted' },
          block_ids: ['block-0', 'block-1', 'block-2', 'block-3'],
          tool_ids: ['tool-0', 'tool-1'],
          group_ids: [],
          in_context_message_ids: ['message-0'],
          messages: [{ id: 'message-0', role: 'system', content: text('old prompt') }],
        },
      ],
      groups: [],
      blocks: [
        { id: 'block-0', label: 'system/persona', value: 'I am Ezra.', limit: 5000 },
        { id: 'block-1', label: 'reference/faq', value: 'Q: What is Letta?\nA: A platform.', limit: 5000 },
        { id: 'block-2', label: '/note_directory', value: 'notes/a.md', limit: 5000 },
        { id: 'block-3', label: 'system//references/lettabot', value: 'see lettabot', limit: 5000 },
      ],
      tools: [
        { id: 'tool-0', name: 'memory_replace', tool_type: 'letta_sleeptime_core' },
        { id: 'tool-1', name: 'memory_insert', tool_type: 'letta_sleeptime_core' },
      ],
    };
    const { agentIds, warnings } = (await t.ok(Import, { json: file }, own)).importAgent;
    expect(warnings).toEqual([]);
    const [id] = agentIds as [string];
    const before = (await t.ok(Memory, { id }, own)).agent!;
    for (const block of file.blocks) expect(before.memory).toContain(`<${block.label}>\n<description>`);
    expect(before.memory).toContain('</reference/faq>');

    model.enqueue(
      { toolCalls: [{ id: 'c1', name: 'memory_replace', arguments: { label: 'reference/faq', old_string: 'A platform.', new_string: 'A platform for stateful agents.' } }] },
      { toolCalls: [{ id: 'c2', name: 'memory_insert', arguments: { label: '/note_directory', new_string: 'notes/b.md', insert_line: -1 } }] },
      { text: 'noted' },
    );
    expect((await t.ok(Send, { input: { agentId: id, input: 'remember b.md' } }, own)).sendMessage.stopReason).toBe('END_TURN');
    const after = (await t.ok(Memory, { id }, own)).agent!;
    expect(after.blocks.find((block) => block.label === 'reference/faq')!.value).toBe('Q: What is Letta?\nA: A platform for stateful agents.');
    expect(after.blocks.find((block) => block.label === '/note_directory')!.value).toBe('notes/a.md\nnotes/b.md');
    expect(after.systemPrompt).toContain('<reference/faq>');
    expect(after.systemPrompt).toContain('A platform for stateful agents.');
    // The model was shown the labels as they are, in the prompt of its second call.
    expect(JSON.stringify(model.requests.at(-1))).toContain('notes/a.md\\nnotes/b.md');

    const exported = (await t.ok(Export, { ids: [id] }, own)).exportAgents as any;
    expect(exported.blocks.map((block: any) => block.label).sort()).toEqual(file.blocks.map((block) => block.label).sort());
    const { token } = elsewhere;
    const copy = (await t.ok(Import, { json: exported }, { token })).importAgent.agentIds[0]!;
    const copied = (await t.ok(Memory, { id: copy }, { token })).agent!;
    expect(copied.blocks.map((block) => [block.label, block.value]).sort()).toEqual(after.blocks.map((block) => [block.label, block.value]).sort());
  });

  it('refuses labels that cannot name an element of the compiled memory', async () => {
    const bad = { agents: [{ id: 'agent-0', name: 'bad-labels', block_ids: ['block-0', 'block-1'] }], blocks: [{ id: 'block-0', label: 'my <label>', value: '' }, { id: 'block-1', label: 'two words', value: '' }] };
    const result = await t.request(Import, { json: bad }, own);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((result.errors![0]!.extensions!.problems as any[]).map((problem) => problem.path)).toEqual(['blocks.0.label', 'blocks.1.label']);
  });

  it('ignores group ids of groups the file does not hold, as Letta does, and reports them in warnings', async () => {
    const file = {
      agents: [
        { id: 'agent-0', name: 'dangling', group_ids: ['group-7', 'group-0'], block_ids: [], tool_ids: [] },
        { id: 'agent-1', name: 'member', group_ids: ['group-9'] },
      ],
      groups: [{ id: 'group-0', agent_ids: ['agent-1'], manager_config: { manager_type: 'sleeptime', manager_agent_id: 'agent-0', sleeptime_agent_frequency: 3 } }],
    };
    const { agentIds, warnings } = (await t.ok(Import, { json: file }, own)).importAgent;
    expect(agentIds).toHaveLength(2);
    expect(warnings).toEqual([
      { path: 'agents.0.group_ids.0', message: "group 'group-7' is not in the file; ignored" },
      { path: 'agents.1.group_ids.0', message: "group 'group-9' is not in the file; ignored" },
    ]);
    const exported = (await t.ok(Export, { ids: [agentIds[0]!] }, own)).exportAgents as any;
    expect(exported.agents.map((agent: any) => agent.group_ids)).toEqual([['group-0'], []]);
  });

  it('keeps skills (the first of a name), shows them on the agent and exports them', async () => {
    const skills = [
      { name: 'verify-claims', files: { 'SKILL.md': '---\nname: verify-claims\n---\nCheck first.', 'scripts/verify.sh': '#!/bin/sh\necho ok' }, source_url: null },
      { name: 'linear', files: null, source_url: 'letta-ai/skills/main/tools/linear' },
      { name: 'linear', files: null, source_url: 'elsewhere' },
    ];
    const { agentIds, warnings } = (await t.ok(Import, { json: { agents: [{ id: 'agent-0', name: 'skilled' }], skills } }, own)).importAgent;
    expect(warnings).toEqual([{ path: 'skills.2.name', message: "a second skill named 'linear'; the first is kept" }]);
    const agent = (await t.ok(Memory, { id: agentIds[0]! }, own)).agent!;
    expect(agent.skills).toEqual(skills.slice(0, 2).map(({ source_url, ...rest }) => ({ ...rest, sourceUrl: source_url })));
    const exported = (await t.ok(Export, { ids: agentIds }, own)).exportAgents as any;
    expect(exported.skills).toEqual(skills.slice(0, 2));
  });

  it('keeps message group ids: of a group in the file (remapped) and of a group on the server that wrote it (as written)', async () => {
    const doc = fixtureJson('lettabot-builder.af');
    const foreign = doc.agents[0].messages.find((message: any) => message.group_id)?.group_id;
    expect(foreign).toMatch(/^group-[0-9a-f-]{36}$/);
    doc.agents[1].messages.push({ id: 'message-local', role: 'user', content: text('in the group'), group_id: 'group-0' });
    const { agentIds } = (await t.ok(Import, { json: doc }, own)).importAgent;
    const exported = (await t.ok(Export, { ids: [agentIds[0]!] }, own)).exportAgents as any;
    const ids = new Set(exported.agents.flatMap((agent: any) => agent.messages.map((message: any) => message.group_id)));
    expect(ids).toEqual(new Set([null, foreign, 'group-0']));
  });
});
