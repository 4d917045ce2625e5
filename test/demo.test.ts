import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoBrain } from './model-server/demo-brain.js';
import { startModelServer, type ModelServer } from './model-server/server.js';
import { eventually, startTestServer, type TestServer } from './helpers/server.js';

type Data = Record<string, any>;

/** The journey of the README and `npm run demo`: a person in GraphiQL with the scripted demo model. */
describe('the demo model through GraphQL', () => {
  let model: ModelServer;
  let t: TestServer;
  let agentId: string;
  const gql = async (query: string, variables?: Record<string, unknown>) => {
    const result = await t.request<Data, Record<string, unknown>>(query, variables);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data!;
  };

  beforeAll(async () => {
    model = await startModelServer({ brain: demoBrain });
    t = await startTestServer({ LLM_PROVIDERS: JSON.stringify([{ name: 'demo', baseUrl: model.url }]), DEFAULT_MODEL: 'demo/scripted' });
    const data = await gql(`mutation { createAgent(input: { name: "demo", memoryBlocks: [{ label: "human", value: "" }] }) { agent { id model } } }`);
    agentId = data.createAgent.agent.id;
    expect(data.createAgent.agent.model).toBe('demo/scripted');
  });
  afterAll(async () => {
    await t?.close();
    await model?.close();
  });

  it('edits its memory when told a name', async () => {
    const data = await gql(`mutation($id: ID!) { sendMessage(input: { agentId: $id, input: "my name is Ada" }) { stopReason messages { __typename } } }`, { id: agentId });
    expect(data.sendMessage.stopReason).toBe('END_TURN');
    expect(data.sendMessage.messages.map((m: Data) => m.__typename)).toContain('ToolCallMessage');
    const memory = await gql(`query($id: ID!) { agent(id: $id) { block(label: "human") { value } memory } }`, { id: agentId });
    expect(memory.agent.block.value).toContain('Ada');
    expect(memory.agent.memory).toContain('Ada');
  });

  it('lets a long run be cancelled', async () => {
    const started = await gql(`mutation($id: ID!) { sendMessageAsync(input: { agentId: $id, input: "tell me something slow" }) { run { id } } }`, { id: agentId });
    const runId = started.sendMessageAsync.run.id;
    const requests = model.requests.length;
    await eventually(() => model.requests.length > requests);
    const cancelled = await gql(`mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { status } } }`, { id: runId });
    expect(cancelled.cancelRun.run.status).toBe('CANCELLED');
    let run: Data = {};
    await eventually(
      () => run.stopReason === 'CANCELLED' && run.completedAt !== null,
      async () => (run = (await gql(`query($id: ID!) { run(id: $id) { status stopReason completedAt } }`, { id: runId })).run),
    );
    expect(run.status).toBe('CANCELLED');
    await eventually(() => model.requests.at(-1)!.aborted === true);
  });

  it('asks for approval before a client-side tool and continues with its result', async () => {
    const tool = await gql(`mutation { createTool(input: { name: "book_table", description: "Books a table", parameters: { type: "object", properties: { restaurant: { type: "string" } }, required: ["restaurant"] } }) { tool { id } } }`);
    await gql(`mutation($a: ID!, $t: ID!) { attachTool(input: { agentId: $a, toolId: $t }) { changed } }`, { a: agentId, t: tool.createTool.tool.id });
    const asked = await gql(`mutation($id: ID!) { sendMessage(input: { agentId: $id, input: "please approve a booking" }) { stopReason messages { __typename ... on ApprovalRequestMessage { toolCalls { toolCallId name } } } } }`, { id: agentId });
    expect(asked.sendMessage.stopReason).toBe('REQUIRES_APPROVAL');
    const request = asked.sendMessage.messages.at(-1);
    expect(request.toolCalls[0].name).toBe('book_table');
    const answered = await gql(`mutation($id: ID!, $call: String!) { sendMessage(input: { agentId: $id, toolReturns: [{ toolCallId: $call, toolReturn: "booked for 8pm" }] }) { stopReason messages { __typename ... on AssistantMessage { content } } } }`, { id: agentId, call: request.toolCalls[0].toolCallId });
    expect(answered.sendMessage.stopReason).toBe('END_TURN');
    expect(JSON.stringify(answered.sendMessage.messages)).toContain('booked for 8pm');
  });
});
