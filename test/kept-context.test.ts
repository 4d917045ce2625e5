import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, SERVICES_MODE, startTestServer, startWithScriptedModel, type TestServer } from './helpers/server.js';
import type { ModelServer } from './model-server/server.js';

/**
 * An instance keeps an agent's context window between runs (services/runs/run-contexts.ts), so
 * that a run does not read every message again. Whatever changes the context between two runs,
 * from another client or another instance, the next run's prompt must be the context as stored:
 * each run's first model request is compared with previewRawPayload, which builds the same
 * request from the database.
 */

type Data = Record<string, any>;

const CREATE = 'mutation ($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }';
const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { stopReason run { status steps { id } } } }`;
const PREVIEW = 'query ($agentId: ID!, $input: PreviewRawPayloadInput) { previewRawPayload(agentId: $agentId, input: $input) { payload } }';
const UPDATE_BLOCK = 'mutation ($input: UpdateBlockInput!) { updateBlock(input: $input) { block { value } } }';
const UPDATE_MESSAGE = 'mutation ($input: UpdateMessageInput!) { updateMessage(input: $input) { message { messageId } } }';
const RESET = 'mutation ($input: ResetMessagesInput!) { resetMessages(input: $input) { agent { id } } }';
const HISTORY = 'query ($id: ID!) { agent(id: $id) { messages(last: 200) { nodes { messageId messageType otid } } } }';

async function ok(t: TestServer, query: string, variables: Record<string, unknown>): Promise<Data> {
  const result = await t.request<Data, unknown>(query, variables);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

/**
 * The scripted brain: "remember …" is a memory_insert on "human" then a text answer (2 steps,
 * the system prompt rebuilt in between); anything else one text answer.
 */
function brain(request: { messages: Array<{ role: string; content?: unknown }> }) {
  const last = request.messages.at(-1)!;
  if (last.role === 'tool') return { text: 'Noted.' };
  const text = typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
  if (text.includes('remember ')) return { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: text.slice(text.indexOf('remember ') + 9, text.indexOf('remember ') + 40) } }] };
  return { text: `echo: ${text.slice(0, 40)}` };
}

/**
 * Sends `text` through `via` and checks that the run's first model request carried exactly the
 * messages previewRawPayload (a fresh read of the database) shows for it, asked through `check`.
 */
async function sendChecked(model: ModelServer, via: TestServer, check: TestServer, agentId: string, text: string, otid?: string) {
  const preview = (await ok(check, PREVIEW, { agentId, input: { input: text } })).previewRawPayload.payload;
  const first = model.requests.length;
  const sent = await ok(via, SEND, { input: { agentId, messages: [{ role: 'USER', content: text, ...(otid ? { otid } : {}) }] } });
  expect(sent.sendMessage.run.status).toBe('COMPLETED');
  const request = model.requests[first]!;
  expect(request.raw.messages).toEqual(preview.messages);
  return request;
}

const systemText = (request: { raw: Record<string, unknown> }) => JSON.stringify((request.raw.messages as Array<{ role: string }>)[0]);
const allText = (request: { raw: Record<string, unknown> }) => JSON.stringify(request.raw.messages);

async function userMessageId(t: TestServer, agentId: string, otid: string): Promise<string> {
  const nodes = (await ok(t, HISTORY, { id: agentId })).agent.messages.nodes as Array<{ messageId: string; messageType: string; otid: string | null }>;
  return nodes.find((node) => node.otid === otid && node.messageType === 'USER_MESSAGE')!.messageId;
}

/** Edits of the context between runs, made through `editor` while `runner` executes the runs. */
function editsBetweenRuns(servers: () => { model: ModelServer; runner: TestServer; editor: TestServer }) {
  it('a run after a block edit shows the new memory', async () => {
    const { model, runner, editor } = servers();
    const agentId = (await ok(runner, CREATE, { input: { model: 'test/scripted', memoryBlocks: [{ label: 'human', value: 'Name: unknown.' }] } })).createAgent.agent.id;
    await sendChecked(model, runner, editor, agentId, 'remember likes tea');
    await sendChecked(model, runner, editor, agentId, 'hello');
    await ok(editor, UPDATE_BLOCK, { input: { agentId, blockLabel: 'human', value: 'Name: Ada (edited elsewhere).' } });
    const next = await sendChecked(model, runner, editor, agentId, 'hello again');
    expect(systemText(next)).toContain('Name: Ada (edited elsewhere).');
    expect(systemText(next)).not.toContain('likes tea');
  });

  it('a run after a message edit shows the edited message', async () => {
    const { model, runner, editor } = servers();
    const agentId = (await ok(runner, CREATE, { input: { model: 'test/scripted', memoryBlocks: [{ label: 'human', value: '' }] } })).createAgent.agent.id;
    await sendChecked(model, runner, editor, agentId, 'my code word is apple', 'otid-edit');
    await sendChecked(model, runner, editor, agentId, 'remember the code word');
    const messageId = await userMessageId(editor, agentId, 'otid-edit');
    await ok(editor, UPDATE_MESSAGE, { input: { agentId, messageId, messageType: 'USER_MESSAGE', content: 'my code word is banana' } });
    const next = await sendChecked(model, runner, editor, agentId, 'what is my code word?');
    const users = (next.raw.messages as Array<{ role: string; content: unknown }>).filter((message) => message.role === 'user').map((message) => message.content);
    expect(users).toContain('my code word is banana');
    expect(users).not.toContain('my code word is apple');
  });

  it('a run after a reset starts from the system message', async () => {
    const { model, runner, editor } = servers();
    const agentId = (await ok(runner, CREATE, { input: { model: 'test/scripted' } })).createAgent.agent.id;
    await sendChecked(model, runner, editor, agentId, 'first words');
    await sendChecked(model, runner, editor, agentId, 'remember second words');
    await ok(editor, RESET, { input: { agentId } });
    const next = await sendChecked(model, runner, editor, agentId, 'after the reset');
    expect(allText(next)).not.toContain('first words');
    expect((next.raw.messages as unknown[]).length).toBe(2);
  });

  it('runs one after the other keep using what they stored', async () => {
    const { model, runner, editor } = servers();
    const agentId = (await ok(runner, CREATE, { input: { model: 'test/scripted', memoryBlocks: [{ label: 'human', value: 'Name: unknown.' }] } })).createAgent.agent.id;
    for (let i = 0; i < 4; i++) await sendChecked(model, runner, editor, agentId, i % 2 ? `remember fact ${i}` : `plain ${i}`);
    const last = await sendChecked(model, runner, editor, agentId, 'and now?');
    expect(systemText(last)).toContain('fact 3');
  });
}

describe('the context kept between runs', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({}, { brain }));
  });
  afterAll(() => closeAll(t, model));

  editsBetweenRuns(() => ({ model, runner: t, editor: t }));
});

// Two instances share one database only in services mode: runs execute on A, B edits.
describe.runIf(SERVICES_MODE)('the context kept between runs, edited on another instance', () => {
  let model: ModelServer;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    ({ model, t: a } = await startWithScriptedModel({}, { brain }));
    b = await startTestServer({ DATABASE_URL: a.env.DATABASE_URL!, LLM_PROVIDERS: JSON.stringify([{ name: 'test', baseUrl: model.url }]), RUN_WORKERS: '0' }, { dropOnClose: false });
  });
  afterAll(() => closeAll(b, a, model));

  editsBetweenRuns(() => ({ model, runner: a, editor: b }));
});
