import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const CreateWithMemory = graphql(`
  mutation CreateWithMemory($input: CreateAgentInput!) {
    createAgent(input: $input) {
      agent { id blocks { id label value description limit readOnly charsCurrent } memory systemPrompt }
    }
  }
`);
const CreateBlock = graphql(`
  mutation CreateBlock($input: CreateBlockInput!) { createBlock(input: $input) { block { id label value limit description readOnly } } }
`);
const AgentMemory = graphql(`
  query AgentMemory($id: ID!, $label: String!) {
    agent(id: $id) { id blocks { id label value } block(label: $label) { id value agents { id } } memory systemPrompt }
  }
`);
const EditBlock = graphql(`
  mutation EditBlock($input: UpdateBlockInput!) {
    updateBlock(input: $input) { block { id label value readOnly limit charsCurrent } }
  }
`);
const Attach = graphql(`
  mutation Attach($agentId: ID!, $blockId: ID!) { attachBlock(input: { agentId: $agentId, blockId: $blockId }) { changed agent { id blocks { label } } block { id } } }
`);
const Detach = graphql(`
  mutation Detach($agentId: ID!, $blockId: ID!) { detachBlock(input: { agentId: $agentId, blockId: $blockId }) { changed agent { id blocks { label } } } }
`);
const BlockById = graphql(`
  query BlockById($id: ID!) { block(id: $id) { id label value agents { id } } node(id: $id) { id __typename } }
`);
const ListBlocks = graphql(`
  query ListBlocks($filter: BlockFilter) { blocks(first: 50, filter: $filter) { edges { node { id label } } } }
`);
const RemoveAgent = graphql(`
  mutation RemoveAgent($id: ID!) { deleteAgent(input: { id: $id }) { deletedAgentId } }
`);
const SetSystem = graphql(`
  mutation SetSystem($id: ID!, $system: String!) { updateAgent(input: { id: $id, system: $system }) { agent { id systemPrompt } } }
`);

describe('core memory blocks', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates an agent with new and shared blocks and compiles them into its prompt', async () => {
    const shared = (await t.ok(CreateBlock, { input: { label: 'policies', value: 'Be kind.', description: 'Team policies', readOnly: true } })).createBlock.block;
    const { createAgent } = await t.ok(CreateWithMemory, {
      input: {
        name: 'memo',
        system: 'You are Memo.\n{CORE_MEMORY}\nEnd of prompt.',
        memoryBlocks: [
          { label: 'human', value: 'Name: Ada' },
          { label: 'persona', value: 'I am Memo.', limit: 5000 },
        ],
        blockIds: [shared.id],
      },
    });
    const agent = createAgent.agent;
    expect(agent.blocks.map((block) => block.label).sort()).toEqual(['human', 'persona', 'policies']);
    const human = agent.blocks.find((block) => block.label === 'human')!;
    expect(human).toMatchObject({ value: 'Name: Ada', limit: 100000, readOnly: false, charsCurrent: 9 });
    expect(human.description).toBeTruthy(); // Letta's default description for human

    const memory = agent.memory;
    expect(memory).toContain('<memory_blocks>');
    expect(memory).toContain('<human>');
    expect(memory).toContain('Name: Ada');
    expect(memory).toContain('- chars_current=9');
    expect(memory).toContain('- chars_limit=5000');
    expect(memory).toContain('- read_only=true');
    expect(memory).toContain('Team policies');

    const prompt = agent.systemPrompt!;
    expect(prompt.startsWith('You are Memo.\n')).toBe(true);
    expect(prompt).toContain(memory);
    expect(prompt).toContain(`- AGENT_ID: ${agent.id}`);
    expect(prompt).toContain('End of prompt.');
    expect(prompt).not.toContain('{CORE_MEMORY}');
  });

  it('shares one block between agents: an edit through one agent reaches the other and its prompt', async () => {
    const block = (await t.ok(CreateBlock, { input: { label: 'project', value: 'Status: planning' } })).createBlock.block;
    const a = (await t.ok(CreateWithMemory, { input: { name: 'a', blockIds: [block.id] } })).createAgent.agent;
    const b = (await t.ok(CreateWithMemory, { input: { name: 'b', blockIds: [block.id] } })).createAgent.agent;

    const edited = await t.ok(EditBlock, { input: { agentId: a.id, blockLabel: 'project', value: 'Status: shipped' } });
    expect(edited.updateBlock.block).toMatchObject({ id: block.id, value: 'Status: shipped' });

    const seenByB = await t.ok(AgentMemory, { id: b.id, label: 'project' });
    expect(seenByB.agent?.block).toMatchObject({ id: block.id, value: 'Status: shipped' });
    expect(seenByB.agent?.block?.agents.map((agent) => agent.id).sort()).toEqual([a.id, b.id].sort());
    expect(seenByB.agent?.memory).toContain('Status: shipped');
    expect(seenByB.agent?.systemPrompt).toContain('Status: shipped');
    expect(seenByB.agent?.systemPrompt).not.toContain('Status: planning');

    // by id, too
    await t.ok(EditBlock, { input: { id: block.id, value: 'Status: archived' } });
    expect((await t.ok(AgentMemory, { id: a.id, label: 'project' })).agent?.systemPrompt).toContain('Status: archived');
  });

  it('attaches and detaches blocks, idempotently, rebuilding the prompt', async () => {
    const agent = (await t.ok(CreateWithMemory, { input: { name: 'attach' } })).createAgent.agent;
    const block = (await t.ok(CreateBlock, { input: { label: 'notes', value: 'remember the milk' } })).createBlock.block;

    const attached = await t.ok(Attach, { agentId: agent.id, blockId: block.id });
    expect(attached.attachBlock.changed).toBe(true);
    expect(attached.attachBlock.agent.blocks.map((b) => b.label)).toEqual(['notes']);
    expect((await t.ok(AgentMemory, { id: agent.id, label: 'notes' })).agent?.systemPrompt).toContain('remember the milk');
    expect((await t.ok(Attach, { agentId: agent.id, blockId: block.id })).attachBlock.changed).toBe(false);

    const detached = await t.ok(Detach, { agentId: agent.id, blockId: block.id });
    expect(detached.detachBlock.changed).toBe(true);
    expect(detached.detachBlock.agent.blocks).toEqual([]);
    const after = await t.ok(AgentMemory, { id: agent.id, label: 'notes' });
    expect(after.agent?.block).toBeNull();
    expect(after.agent?.systemPrompt).not.toContain('remember the milk');
    // detaching what is not attached is a no-op, and the block itself survives
    expect((await t.ok(Detach, { agentId: agent.id, blockId: block.id })).detachBlock.changed).toBe(false);
    expect((await t.ok(BlockById, { id: block.id })).block?.label).toBe('notes');
  });

  it('keeps a label unique per agent with CONFLICT naming the label', async () => {
    const agent = (await t.ok(CreateWithMemory, { input: { name: 'labels', memoryBlocks: [{ label: 'human', value: 'x' }] } })).createAgent.agent;
    const other = (await t.ok(CreateBlock, { input: { label: 'human', value: 'y' } })).createBlock.block;
    const clash = await t.request(Attach, { agentId: agent.id, blockId: other.id });
    expect(clash.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', label: 'human' });
    expect(clash.errors?.[0]?.message).toContain("'human'");

    const twice = await t.request(CreateWithMemory, { input: { memoryBlocks: [{ label: 'a', value: '1' }, { label: 'a', value: '2' }] } });
    expect(twice.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', label: 'a' });
    const sharedTwice = await t.request(CreateWithMemory, { input: { memoryBlocks: [{ label: 'human', value: '1' }], blockIds: [other.id] } });
    expect(sharedTwice.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', label: 'human' });

    const note = (await t.ok(CreateBlock, { input: { label: 'note', value: 'n' } })).createBlock.block;
    await t.ok(Attach, { agentId: agent.id, blockId: note.id });
    const rename = await t.request(EditBlock, { input: { id: note.id, label: 'human' } });
    expect(rename.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', label: 'human' });
    const renamed = await t.ok(EditBlock, { input: { id: note.id, label: 'scratch' } });
    expect(renamed.updateBlock.block.label).toBe('scratch');
    expect((await t.ok(AgentMemory, { id: agent.id, label: 'scratch' })).agent?.block?.id).toBe(note.id);
  });

  it('refuses to edit a read-only block unless the update unlocks it', async () => {
    const agent = (await t.ok(CreateWithMemory, { input: { memoryBlocks: [{ label: 'rules', value: 'fixed', readOnly: true }] } })).createAgent.agent;
    const refused = await t.request(EditBlock, { input: { agentId: agent.id, blockLabel: 'rules', value: 'changed' } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.errors?.[0]?.message).toContain('read-only');
    expect((await t.ok(AgentMemory, { id: agent.id, label: 'rules' })).agent?.block?.value).toBe('fixed');

    const metadataOnly = await t.ok(EditBlock, { input: { agentId: agent.id, blockLabel: 'rules', limit: 10 } });
    expect(metadataOnly.updateBlock.block.limit).toBe(10);
    const unlocked = await t.ok(EditBlock, { input: { agentId: agent.id, blockLabel: 'rules', value: 'changed', readOnly: false } });
    expect(unlocked.updateBlock.block).toMatchObject({ value: 'changed', readOnly: false });
  });

  it('validates block input with field paths', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ label: 'x', value: 'v', limit: -1 }, 'input.limit'],
      [{ label: 'x', value: 'v', limit: 0 }, 'input.limit'],
      [{ label: '', value: 'v' }, 'input.label'],
      [{ label: 'has space', value: 'v' }, 'input.label'],
      [{ label: 'x', value: 'v', metadata: 'not an object' }, 'input.metadata'],
    ];
    for (const [input, path] of cases) {
      const result = await t.request(CreateBlock, { input } as never);
      expect(result.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', path });
    }
    const inAgent = await t.request(CreateWithMemory, { input: { memoryBlocks: [{ label: 'ok', value: 'v', limit: -5 }] } });
    expect(inAgent.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'input.memoryBlocks.0.limit' });
    const agent = (await t.ok(CreateWithMemory, { input: { memoryBlocks: [{ label: 'x', value: 'v' }] } })).createAgent.agent;
    const badLimit = await t.request(EditBlock, { input: { agentId: agent.id, blockLabel: 'x', limit: -1 } });
    expect(badLimit.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'input.limit' });
    const noTarget = await t.request(EditBlock, { input: { value: 'v' } });
    expect(noTarget.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const missingLabel = await t.request(EditBlock, { input: { agentId: agent.id, blockLabel: 'nope', value: 'v' } });
    expect(missingLabel.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('accepts a 1 MB value whole and strips NUL bytes', async () => {
    const big = 'a'.repeat(1024 * 1024);
    const created = await t.ok(CreateBlock, { input: { label: 'big', value: big } });
    const fetched = await t.ok(BlockById, { id: created.createBlock.block.id });
    expect(fetched.block?.value.length).toBe(big.length);
    const nul = await t.ok(CreateBlock, { input: { label: 'nul', value: 'a\u0000b' } });
    expect(nul.createBlock.block.value).toBe('ab');
  });

  it('lists and finds blocks; node dispatches on block-', async () => {
    const block = (await t.ok(CreateBlock, { input: { label: 'findme', value: 'needle in here' } })).createBlock.block;
    const found = await t.ok(BlockById, { id: block.id });
    expect(found.node).toEqual({ id: block.id, __typename: 'Block' });
    expect((await t.ok(ListBlocks, { filter: { label: 'findme' } })).blocks.edges.map((e) => e.node.id)).toEqual([block.id]);
    expect((await t.ok(ListBlocks, { filter: { search: 'NEEDLE' } })).blocks.edges.map((e) => e.node.id)).toEqual([block.id]);
    const unknown = await t.request(BlockById, { id: 'block-00000000-0000-4000-8000-000000000000' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('deleting an agent keeps blocks that other agents still use', async () => {
    const shared = (await t.ok(CreateBlock, { input: { label: 'team', value: 'shared' } })).createBlock.block;
    const doomed = (await t.ok(CreateWithMemory, { input: { memoryBlocks: [{ label: 'own', value: 'mine' }], blockIds: [shared.id] } })).createAgent.agent;
    const survivor = (await t.ok(CreateWithMemory, { input: { blockIds: [shared.id] } })).createAgent.agent;
    const own = doomed.blocks.find((block) => block.label === 'own')!;
    await t.ok(RemoveAgent, { id: doomed.id });
    expect((await t.ok(BlockById, { id: shared.id })).block?.agents.map((a) => a.id)).toEqual([survivor.id]);
    const gone = await t.request(BlockById, { id: own.id });
    expect(gone.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('rebuilds the prompt when the system template changes', async () => {
    const agent = (await t.ok(CreateWithMemory, { input: { memoryBlocks: [{ label: 'human', value: 'Bob' }] } })).createAgent.agent;
    const { updateAgent } = await t.ok(SetSystem, { id: agent.id, system: 'NEW TEMPLATE {CORE_MEMORY}' });
    expect(updateAgent.agent.systemPrompt?.startsWith('NEW TEMPLATE ')).toBe(true);
    expect(updateAgent.agent.systemPrompt).toContain('Bob');
  });
});

describe('memory across organizations', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ AUTH_MODE: 'required' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("cannot attach, read or edit another organization's block", async () => {
    const acme = await t.newOrganization();
    const globex = await t.newOrganization();
    const theirs = (await t.ok(CreateBlock, { input: { label: 'secret', value: 'classified' } }, { token: globex.token })).createBlock.block;
    const mine = (await t.ok(CreateWithMemory, { input: { name: 'mine' } }, { token: acme.token })).createAgent.agent;

    for (const result of [
      await t.request(Attach, { agentId: mine.id, blockId: theirs.id }, { token: acme.token }),
      await t.request(BlockById, { id: theirs.id }, { token: acme.token }),
      await t.request(EditBlock, { input: { id: theirs.id, value: 'leaked' } }, { token: acme.token }),
      await t.request(CreateWithMemory, { input: { blockIds: [theirs.id] } }, { token: acme.token }),
    ]) {
      expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(JSON.stringify(result.data ?? {})).not.toContain('classified');
    }
    const list = await t.ok(ListBlocks, {}, { token: acme.token });
    expect(list.blocks.edges).toEqual([]);
    expect((await t.ok(BlockById, { id: theirs.id }, { token: globex.token })).block?.value).toBe('classified');
  });
});
