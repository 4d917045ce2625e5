import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, eventually, startWithScriptedModel, type TestServer } from './helpers/server.js';
import type { ModelServer } from './model-server/server.js';

/** Sleeptime groups through GraphQL, with the scripted model: created as Letta does, run in the background, visible and cancellable. */

const NewAgent = graphql(`
  mutation GroupsAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id name } } }
`);
const AgentGroups = graphql(`
  query AgentGroups($id: ID!, $managerType: ManagerType) {
    agent(id: $id) {
      id
      blocks { id label value }
      groups(managerType: $managerType) {
        id managerType sleeptimeAgentFrequency turnsCounter lastProcessedMessageId
        managerAgent { id }
        agents { id name agentType blocks { id } tools { name } }
      }
    }
  }
`);
const Send = graphql(`
  mutation GroupsSend($input: SendMessageInput!) { sendMessage(input: $input) { stopReason run { id } } }
`);
const Runs = graphql(`
  query GroupsRuns($id: ID!) { agent(id: $id) { runs(first: 20) { edges { node { id status stopReason background metadata } } } } }
`);
const UpdateGroup = graphql(`
  mutation GroupsUpdate($input: UpdateGroupInput!) { updateGroup(input: $input) { group { id sleeptimeAgentFrequency agents { id } } } }
`);
const CreateGroup = graphql(`
  mutation GroupsCreate($input: CreateGroupInput!) { createGroup(input: $input) { group { id managerType managerAgent { id } agents { id } } } }
`);
const DeleteGroup = graphql(`
  mutation GroupsDelete($input: DeleteGroupInput!) { deleteGroup(input: $input) { deletedGroupId } }
`);
const AllGroups = graphql(`
  query GroupsAll($managerType: ManagerType) { groups(managerType: $managerType) { id managerType } }
`);
const Cancel = graphql(`
  mutation GroupsCancel($runId: ID!) { cancelRun(input: { runId: $runId }) { run { id status } } }
`);
const Node = graphql(`
  query GroupsNode($id: ID!) { node(id: $id) { __typename id ... on Group { managerType } } }
`);

describe('sleeptime groups', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
  });
  afterAll(async () => {
    await closeAll(t, model);
  });

  const runsOf = async (id: string) => (await t.ok(Runs, { id })).agent!.runs.edges.map((edge) => edge.node);

  it('createAgent(enableSleeptime) creates the pair and a SLEEPTIME group as Letta does', async () => {
    const { id, name } = (await t.ok(NewAgent, { input: { name: 'companion', model: 'test/scripted', enableSleeptime: true, memoryBlocks: [{ label: 'human', value: 'Name: unknown' }] } })).createAgent.agent;
    const agent = (await t.ok(AgentGroups, { id, managerType: 'SLEEPTIME' })).agent!;
    expect(agent.groups).toHaveLength(1);
    const [group] = agent.groups;
    expect(group).toMatchObject({ managerType: 'SLEEPTIME', sleeptimeAgentFrequency: 5, turnsCounter: 0, managerAgent: { id } });
    expect(group!.agents).toHaveLength(1);
    const sleeper = group!.agents[0]!;
    expect(sleeper).toMatchObject({ name: `${name}-sleeptime`, agentType: 'SLEEPTIME_AGENT' });
    // The blocks are shared, not copied.
    expect(sleeper.blocks.map((block) => block.id).sort()).toEqual(agent.blocks.map((block) => block.id).sort());
    expect(sleeper.tools.map((tool) => tool.name).sort()).toEqual(['memory_finish_edits', 'memory_insert', 'memory_replace', 'memory_rethink']);
    // The member lists the group too; another manager type filters it out.
    expect((await t.ok(AgentGroups, { id: sleeper.id })).agent!.groups.map((g) => g.id)).toEqual([group!.id]);
    expect((await t.ok(AgentGroups, { id, managerType: 'ROUND_ROBIN' })).agent!.groups).toEqual([]);
    expect((await t.ok(Node, { id: group!.id })).node).toMatchObject({ __typename: 'Group', managerType: 'SLEEPTIME' });
  });

  it('after every sleeptimeAgentFrequency turns, the sleeptime agent runs in the background on the new transcript and edits the shared memory', async () => {
    const { id } = (await t.ok(NewAgent, { input: { name: 'talker', model: 'test/scripted', enableSleeptime: true, memoryBlocks: [{ label: 'human', value: 'Name: unknown' }] } })).createAgent.agent;
    const group = (await t.ok(AgentGroups, { id })).agent!.groups[0]!;
    const sleeper = group.agents[0]!.id;
    await t.ok(UpdateGroup, { input: { id: group.id, sleeptimeAgentFrequency: 2 } });

    model.enqueue({ text: 'Nice to meet you.' });
    await t.ok(Send, { input: { agentId: id, input: 'I am Ada and I like green tea' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await runsOf(sleeper)).toEqual([]); // one turn of two

    const requestsBefore = model.requests.length;
    model.enqueue(
      { text: 'Noted.' },
      // The sleeptime agent's turn: it edits the shared block, then finishes.
      { toolCalls: [{ id: 'st1', name: 'memory_insert', arguments: { label: 'human', new_string: 'Likes green tea.', insert_line: -1 } }] },
      { toolCalls: [{ id: 'st2', name: 'memory_finish_edits', arguments: {} }] },
    );
    await t.ok(Send, { input: { agentId: id, input: 'what do I like?' } });
    let runs: Awaited<ReturnType<typeof runsOf>> = [];
    await eventually(() => runs.length === 1 && runs[0]!.status === 'COMPLETED', async () => {
      runs = await runsOf(sleeper);
    });
    expect(runs[0]).toMatchObject({ background: true, metadata: expect.objectContaining({ run_type: 'sleeptime', group_id: group.id }) });
    // It was given the main agent's transcript.
    const sleeptimePrompt = JSON.stringify(model.requests[requestsBefore + 1]);
    expect(sleeptimePrompt).toContain('I am Ada and I like green tea');
    expect(sleeptimePrompt).toContain('what do I like?');
    // The main agent sees the edit in its memory.
    const after = (await t.ok(AgentGroups, { id })).agent!;
    expect(after.blocks.find((block) => block.label === 'human')!.value).toContain('Likes green tea.');
    expect(after.groups[0]).toMatchObject({ turnsCounter: 2 });
    expect(after.groups[0]!.lastProcessedMessageId).toMatch(/^message-/);
    expect(model.pending()).toBe(0);
  });

  it("the sleeptime run is cancellable like any run", async () => {
    const { id } = (await t.ok(NewAgent, { input: { name: 'hasty', model: 'test/scripted', enableSleeptime: true } })).createAgent.agent;
    const group = (await t.ok(AgentGroups, { id })).agent!.groups[0]!;
    await t.ok(UpdateGroup, { input: { id: group.id, sleeptimeAgentFrequency: 1 } });
    model.enqueue({ text: 'hi' }, { hang: true });
    await t.ok(Send, { input: { agentId: id, input: 'hello' } });
    let runs: Awaited<ReturnType<typeof runsOf>> = [];
    await eventually(() => runs[0]?.status === 'RUNNING' && model.active() > 0, async () => {
      runs = await runsOf(group.agents[0]!.id);
    });
    expect((await t.ok(Cancel, { runId: runs[0]!.id })).cancelRun.run.status).toBe('CANCELLED');
    await eventually(() => model.active() === 0);
    expect((await runsOf(group.agents[0]!.id))[0]).toMatchObject({ status: 'CANCELLED', stopReason: 'CANCELLED' });
  });

  it('createGroup, groups, updateGroup and deleteGroup; bad input is a typed error', async () => {
    const a = (await t.ok(NewAgent, { input: { name: 'manager', model: 'test/scripted' } })).createAgent.agent.id;
    const b = (await t.ok(NewAgent, { input: { name: 'member', model: 'test/scripted' } })).createAgent.agent.id;
    const created = (await t.ok(CreateGroup, { input: { managerType: 'ROUND_ROBIN', managerAgentId: a, agentIds: [b] } })).createGroup.group;
    expect(created).toMatchObject({ managerType: 'ROUND_ROBIN', managerAgent: { id: a }, agents: [{ id: b }] });
    expect((await t.ok(AllGroups, { managerType: 'ROUND_ROBIN' })).groups.map((group) => group.id)).toContain(created.id);
    const updated = (await t.ok(UpdateGroup, { input: { id: created.id, agentIds: [] } })).updateGroup.group;
    expect(updated.agents).toEqual([]);

    const noManager = await t.request(CreateGroup, { input: { managerType: 'SLEEPTIME', agentIds: [b] } });
    expect(noManager.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknown = await t.request(CreateGroup, { input: { managerType: 'SLEEPTIME', managerAgentId: a, agentIds: ['agent-00000000-0000-4000-8000-000000000000'] } });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const notSleeptime = await t.request(UpdateGroup, { input: { id: created.id, sleeptimeAgentFrequency: 3 } });
    expect(notSleeptime.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const zero = await t.request(CreateGroup, { input: { managerType: 'SLEEPTIME', managerAgentId: a, agentIds: [b], sleeptimeAgentFrequency: 0 } });
    expect(zero.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'input.sleeptimeAgentFrequency' });

    expect((await t.ok(DeleteGroup, { input: { id: created.id } })).deleteGroup.deletedGroupId).toBe(created.id);
    expect((await t.request(DeleteGroup, { input: { id: created.id } })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await t.request(DeleteGroup, { input: { id: 'group-1' } })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
