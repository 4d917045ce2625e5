import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { lastUserText, systemText, type ModelServer } from './model-server/server.js';

const NewAgent = graphql(`
  mutation NewContextAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id contextWindowLimit } } }
`);
const UpdateLimit = graphql(`
  mutation UpdateContextLimit($id: ID!, $limit: Int) { updateAgent(input: { id: $id, contextWindowLimit: $limit }) { agent { id contextWindowLimit } } }
`);
const Overview = graphql(`
  query ContextOverview($id: ID!) {
    agent(id: $id) {
      contextWindowLimit
      contextWindow {
        contextWindowSizeMax contextWindowSizeCurrent numMessages numArchivalMemory numRecallMemory
        numTokensSystem systemPrompt numTokensCoreMemory coreMemory numTokensExternalMemorySummary externalMemorySummary
        numTokensMemoryFilesystem numTokensToolUsageRules toolUsageRules numTokensDirectories
        numTokensSummaryMemory summaryMemory numTokensFunctionsDefinitions functionsDefinitions numTokensMessages messages
        tokenizer tokenizerExact
      }
    }
  }
`);
const Preview = graphql(`
  query Preview($agentId: ID!, $input: PreviewRawPayloadInput) {
    previewRawPayload(agentId: $agentId, input: $input) { provider model url payload tokenCount contextWindow }
  }
`);
const Send = graphql(`
  mutation ContextSend($input: SendMessageInput!) {
    sendMessage(input: $input) { stopReason run { id status } messages { __typename } }
  }
`);
const Summarize = graphql(`
  mutation Summarize($input: SummarizeConversationInput!) {
    summarizeConversation(input: $input) {
      compacted summary summaryMessageId mode numMessagesBefore numMessagesAfter contextTokensBefore contextTokensAfter contextWindow note
    }
  }
`);
const Recall = graphql(`
  query ContextRecall($id: ID!) {
    agent(id: $id) { messages(first: 100) { edges { node { __typename id ... on UserMessage { content } ... on AssistantMessage { content } } } } }
  }
`);

const SUMMARY = 'The user and the agent exchanged greetings about the weather.';

type Body = { messages: Array<{ role: string; content: unknown }>; tools?: Array<{ function: { name: string } }> };

describe('context window, raw payload and compaction', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel(
      {},
      {
        brain: (request) => (systemText(request).startsWith('You summarise') ? { text: SUMMARY } : { text: `echo: ${lastUserText(request)}` }),
      },
    ));
  });
  afterAll(() => closeAll(t, model));

  const newAgent = async (input: Record<string, unknown> = {}) =>
    (await t.ok(NewAgent, { input: { model: 'test/gpt-4o-mini', memoryBlocks: [{ label: 'human', value: 'Name: Ada' }], ...input } })).createAgent.agent.id;
  const overview = async (id: string) => (await t.ok(Overview, { id })).agent!.contextWindow;

  it('measures every section, and their sum is the size of the request previewRawPayload shows', async () => {
    const id = await newAgent({ agentType: 'MEMGPT_V2_AGENT', contextWindowLimit: 32_000 });
    const before = model.requests.length;
    const ctx = await overview(id);
    const parts =
      ctx.numTokensSystem +
      ctx.numTokensCoreMemory +
      ctx.numTokensExternalMemorySummary +
      ctx.numTokensMemoryFilesystem +
      ctx.numTokensToolUsageRules +
      ctx.numTokensDirectories +
      ctx.numTokensSummaryMemory +
      ctx.numTokensFunctionsDefinitions +
      ctx.numTokensMessages;
    expect(ctx.contextWindowSizeCurrent).toBe(parts);
    expect(ctx.contextWindowSizeMax).toBe(32_000);
    expect(ctx.tokenizer).toBe('o200k_base');
    expect(ctx.tokenizerExact).toBe(true);
    expect(ctx.coreMemory).toContain('<memory_blocks>');
    expect(ctx.coreMemory).toContain('Name: Ada');
    expect(ctx.externalMemorySummary).toContain('<memory_metadata>');
    expect(ctx.toolUsageRules).toContain('<tool_usage_rules>');
    expect(ctx.numTokensCoreMemory).toBeGreaterThan(10);
    expect(ctx.numTokensSystem).toBeGreaterThan(20);
    expect(ctx.numTokensFunctionsDefinitions).toBeGreaterThan(100);
    // memgpt agents start with a boot exchange and a login message after the system message.
    expect(ctx.numMessages).toBe(4);
    expect(ctx.numRecallMemory).toBe(4);
    expect((ctx.functionsDefinitions as Array<{ function: { name: string } }>).map((tool) => tool.function.name)).toContain('send_message');

    const preview = (await t.ok(Preview, { agentId: id })).previewRawPayload;
    expect(preview.tokenCount).toBe(ctx.contextWindowSizeCurrent);
    expect(preview.provider).toBe('test');
    expect(preview.model).toBe('gpt-4o-mini');
    expect(preview.url).toMatch(/\/chat\/completions$/);
    const body = preview.payload as Body;
    expect(body.messages[0]!.role).toBe('system');
    expect(body.messages[0]!.content).toBe(ctx.systemPrompt.length ? (body.messages[0]!.content as string) : '');
    expect(body.messages[0]!.content as string).toContain(ctx.coreMemory);
    expect(body.messages.slice(1)).toEqual(ctx.messages);
    // Nothing was sent to the model, nothing was stored.
    expect(model.requests.length).toBe(before);
    expect((await overview(id)).numRecallMemory).toBe(4);
  });

  it('previews exactly the body the provider SDK then sends for the same input', async () => {
    const id = await newAgent();
    const empty = (await t.ok(Preview, { agentId: id })).previewRawPayload;
    const preview = (await t.ok(Preview, { agentId: id, input: { input: 'What is the capital of Peru?' } })).previewRawPayload;
    expect(preview.tokenCount).toBeGreaterThan(empty.tokenCount);
    const before = model.requests.length;
    await t.ok(Send, { input: { agentId: id, input: 'What is the capital of Peru?' } });
    const sent = model.requests[before]!.body;
    expect(preview.payload).toEqual(sent);
    expect((preview.payload as Body).messages.at(-1)).toEqual({ role: 'user', content: 'What is the capital of Peru?' });
  });

  it('names an approximate tokenizer for model families without an offline one', async () => {
    const id = await newAgent({ model: 'test/scripted-model' });
    const ctx = await overview(id);
    expect(ctx.tokenizerExact).toBe(false);
    expect(ctx.contextWindowSizeMax).toBe(128_000);
  });

  it('refuses bad input to previewRawPayload and contextWindowLimit', async () => {
    const id = await newAgent();
    const unknown = await t.request(Preview, { agentId: 'agent-00000000-0000-4000-8000-000000000000' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const empty = await t.request(Preview, { agentId: id, input: { input: '' } });
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tiny = await t.request(UpdateLimit, { id, limit: 10 });
    expect(tiny.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.ok(UpdateLimit, { id, limit: 5000 })).updateAgent.agent.contextWindowLimit).toBe(5000);
    expect((await t.ok(UpdateLimit, { id, limit: null })).updateAgent.agent.contextWindowLimit).toBe(128_000);
  });

  it('answers a clear no-op when there is nothing to compact', async () => {
    const id = await newAgent();
    const result = (await t.ok(Summarize, { input: { agentId: id } })).summarizeConversation;
    expect(result.compacted).toBe(false);
    expect(result.summary).toBeNull();
    expect(result.numMessagesBefore).toBe(result.numMessagesAfter);
    expect(result.note).toMatch(/Nothing to compact/);
  });

  it('summarizes on demand: the oldest messages leave the context but stay in recall memory', async () => {
    const id = await newAgent();
    for (let i = 1; i <= 6; i++) await t.ok(Send, { input: { agentId: id, input: `Message number ${i} about the weather: ${'sunny and warm, '.repeat(30)}` } });
    const before = await overview(id);
    expect(before.numMessages).toBe(13);
    const result = (await t.ok(Summarize, { input: { agentId: id, mode: 'SLIDING_WINDOW' } })).summarizeConversation;
    expect(result.compacted).toBe(true);
    expect(result.summary).toBe(SUMMARY);
    expect(result.mode).toBe('SLIDING_WINDOW');
    expect(result.numMessagesBefore).toBe(13);
    expect(result.numMessagesAfter).toBeLessThan(13);
    expect(result.contextTokensAfter).toBeLessThan(result.contextTokensBefore);
    const summarizer = model.requests.at(-1)!.body;
    expect(systemText(summarizer)).toMatch(/^You summarise/);
    expect(lastUserText(summarizer)).toContain('Message number 1 about the weather');

    const after = await overview(id);
    expect(after.numMessages).toBe(result.numMessagesAfter);
    expect(after.summaryMemory).toContain(SUMMARY);
    expect(after.summaryMemory).toContain('hidden from view');
    expect(after.numTokensSummaryMemory).toBeGreaterThan(0);
    expect(after.numRecallMemory).toBe(before.numRecallMemory + 1);
    // The first message is out of context, still stored.
    expect(JSON.stringify(after.messages)).not.toContain('Message number 1 about');
    const recall = (await t.ok(Recall, { id })).agent!.messages.edges.map((edge) => edge.node);
    expect(recall.some((node) => node.__typename === 'UserMessage' && node.content?.startsWith('Message number 1 about the weather'))).toBe(true);

    // The model now sees the summary in place of the evicted messages.
    await t.ok(Send, { input: { agentId: id, input: 'And now?' } });
    const next = model.requests.at(-1)!.body;
    expect(JSON.stringify(next.messages)).toContain(SUMMARY);
    expect(JSON.stringify(next.messages)).not.toContain('Message number 1 about');

    const all = (await t.ok(Summarize, { input: { agentId: id, mode: 'ALL' } })).summarizeConversation;
    expect(all.compacted).toBe(true);
    expect(all.numMessagesAfter).toBe(2);
  });

  it('fails the run with context_window_overflow_in_system_prompt when the system prompt alone does not fit', async () => {
    const id = await newAgent({ agentType: 'MEMGPT_V2_AGENT' });
    const ctx = await overview(id);
    const limit = Math.max(100, ctx.contextWindowSizeCurrent - ctx.numTokensMessages - 200);
    await t.ok(UpdateLimit, { id, limit });
    const result = await t.ok(Send, { input: { agentId: id, input: 'hello' } });
    expect(result.sendMessage.stopReason).toBe('CONTEXT_WINDOW_OVERFLOW_IN_SYSTEM_PROMPT');
    expect(result.sendMessage.run.status).toBe('FAILED');
    const summarize = await t.request(Summarize, { input: { agentId: id } });
    expect(summarize.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(summarize.errors?.[0]?.message).toMatch(/system prompt/);
  });

  it('compacts and retries when the provider reports a context overflow', async () => {
    const id = await newAgent();
    for (let i = 1; i <= 3; i++) await t.ok(Send, { input: { agentId: id, input: `Filler ${i}` } });
    model.enqueue({ status: 400, errorCode: 'context_length_exceeded', errorMessage: "This model's maximum context length is 4096 tokens." });
    const result = await t.ok(Send, { input: { agentId: id, input: 'Overflowing question' } });
    expect(result.sendMessage.stopReason).toBe('END_TURN');
    const ctx = await overview(id);
    expect(ctx.summaryMemory).toContain(SUMMARY);
    expect(JSON.stringify(model.requests.at(-1)!.body.messages)).toContain('Overflowing question');
  });
});
