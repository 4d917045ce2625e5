import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_SECRET, PROVIDER_CASES, providersEnv, type ProviderCase } from './helpers/providers.js';
import { closeAll, startTestServer, uniqueName, type GraphQLResult, type TestServer } from './helpers/server.js';
import { startModelServer, type ModelServer, type Reply } from './model-server/server.js';

/**
 * Every provider kind through its own AI SDK package, against the scripted model server speaking
 * that provider's wire protocol: an agent turn with a tool call and the reasoning state carried
 * from step 1 to step 2, every fault ending the run with the right stop reason, and the raw
 * payload preview.
 */

const MESSAGE_FIELDS = `
  __typename messageType
  ... on ReasoningMessage { reasoning signature }
  ... on HiddenReasoningMessage { state hiddenReasoning }
  ... on AssistantMessage { content }
  ... on ToolCallMessage { toolCall { toolCallId name arguments } }
  ... on ToolReturnMessage { toolCallId status toolReturn }
`;
const CREATE_AGENT = `mutation ($input: CreateAgentInput!) { createAgent(input: $input) { agent { id model contextWindowLimit } } }`;
const SEND = `mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) {
    stopReason usage { promptTokens completionTokens }
    run { id status stopReason metadata error { code message } }
    messages { ${MESSAGE_FIELDS} }
  }
}`;
const CONTEXT_FIELDS = `contextWindowSizeCurrent numTokensSystem numTokensCoreMemory numTokensExternalMemorySummary numTokensMemoryFilesystem numTokensToolUsageRules numTokensDirectories numTokensSummaryMemory numTokensFunctionsDefinitions numTokensMessages tokenizer tokenizerExact`;
const MEMORY = `query ($id: ID!) { agent(id: $id) { block(label: "human") { value } contextWindow { ${CONTEXT_FIELDS} } } }`;
type Overview = { contextWindowSizeCurrent: number; numTokensCoreMemory: number; numTokensSystem: number; numTokensFunctionsDefinitions: number; tokenizer: string; tokenizerExact: boolean };
const sumOfParts = (ctx: Overview) => Object.entries(ctx as unknown as Record<string, number>).filter(([key]) => key.startsWith('numTokens')).reduce((sum, [, value]) => sum + (value as number), 0);
/** Providers whose API counts tokens (Claude and Gemini have no offline tokenizer). */
const COUNTED: Record<string, string> = { anthropic: 'anthropic_count_tokens', gemini: 'gemini_count_tokens' };
const PREVIEW = `query ($agentId: ID!, $input: PreviewRawPayloadInput) { previewRawPayload(agentId: $agentId, input: $input) { provider model url payload tokenCount contextWindow } }`;

interface Msg {
  __typename: string;
  messageType: string;
  reasoning?: string;
  signature?: string | null;
  state?: string;
  hiddenReasoning?: string | null;
  content?: string;
  toolCall?: { toolCallId: string; name: string; arguments: string };
  toolCallId?: string;
  status?: string;
  toolReturn?: string;
}
interface SendResult {
  stopReason: string;
  usage: { promptTokens: number; completionTokens: number };
  run: { id: string; status: string; stopReason: string; metadata: { error?: { error_type: string; message: string } } | null; error: { code: string; message: string } | null };
  messages: Msg[];
}

async function ok<T>(t: TestServer, query: string, variables: Record<string, unknown>): Promise<T> {
  const result = (await t.request(query, variables as never)) as GraphQLResult<T>;
  if (result.errors?.length || !result.data) throw new Error(`GraphQL request failed: ${JSON.stringify(result.errors ?? result)}`);
  return result.data;
}

let model: ModelServer;
let t: TestServer;
beforeAll(async () => {
  model = await startModelServer({ awsSecretAccessKey: AWS_SECRET });
  // One more Anthropic provider that nothing answers: its token count fails.
  const providers = [...(JSON.parse(providersEnv(model)) as unknown[]), { name: 'anthropic_offline', kind: 'anthropic', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'x' }];
  t = await startTestServer({ LLM_PROVIDERS: JSON.stringify(providers), LLM_TIMEOUT_MS: '1500', LLM_RETRY_AFTER_MAX_MS: '2000', PROVIDER_QUERY_TIMEOUT_MS: '2000' });
});
afterAll(() => closeAll(t, model));

const newAgent = async (c: ProviderCase, input: Record<string, unknown> = {}) =>
  (
    await ok<{ createAgent: { agent: { id: string; contextWindowLimit: number } } }>(t, CREATE_AGENT, {
      input: { name: uniqueName(c.kind), model: `${c.name}/${c.model}`, memoryBlocks: [{ label: 'human', value: 'Name: Ada' }], ...input },
    })
  ).createAgent.agent;
const send = async (agentId: string, input: string) => (await ok<{ sendMessage: SendResult }>(t, SEND, { input: { agentId, input } })).sendMessage;

describe.each(PROVIDER_CASES)('$kind provider', (c) => {
  it('runs an agent turn with a tool call, carrying the reasoning state from step 1 to step 2', async () => {
    const agent = await newAgent(c);
    const signature = `sig-${c.kind}-${uniqueName('s')}`;
    const before = model.requests.length;
    model.enqueue(
      { reasoning: 'Ada likes tea; I should remember it.', signature, toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Likes tea.' } }], usage: { prompt_tokens: 321, completion_tokens: 12 } },
      { text: 'Noted: you like tea.', usage: { prompt_tokens: 345, completion_tokens: 6 } },
    );
    const result = await send(agent.id, 'I like tea');
    expect(result.run.status).toBe('COMPLETED');
    expect(result.stopReason).toBe('END_TURN');
    expect(result.usage.promptTokens).toBe(666);
    // Gemini counts thought tokens as output on top of the candidates' tokens.
    if (c.protocol === 'gemini') expect(result.usage.completionTokens).toBeGreaterThan(18);
    else expect(result.usage.completionTokens).toBe(18);

    const [first, second] = model.requests.slice(before);
    expect(model.requests.length - before).toBe(2);
    expect(first!.protocol).toBe(c.protocol);
    expect(second!.protocol).toBe(c.protocol);
    expect((first!.body.tools ?? []).map((tool) => tool.function.name)).toContain('memory_insert');

    const types = result.messages.map((message) => message.messageType);
    expect(types).toEqual(['REASONING_MESSAGE', 'TOOL_CALL_MESSAGE', 'TOOL_RETURN_MESSAGE', 'ASSISTANT_MESSAGE']);
    const call = result.messages.find((message) => message.messageType === 'TOOL_CALL_MESSAGE')!.toolCall!;
    expect(call.name).toBe('memory_insert');
    expect(JSON.parse(call.arguments)).toMatchObject({ label: 'human', new_string: 'Likes tea.' });
    expect(result.messages.find((message) => message.messageType === 'TOOL_RETURN_MESSAGE')).toMatchObject({ status: 'SUCCESS', toolCallId: call.toolCallId });
    expect(result.messages.at(-1)!.content).toBe('Noted: you like tea.');
    const reasoning = result.messages.find((message) => message.messageType === 'REASONING_MESSAGE')!;
    expect(reasoning.reasoning).toBe('Ada likes tea; I should remember it.');

    // Step 2 sees the tool result of step 1 ...
    const toolResult = second!.body.messages.find((message) => message.role === 'tool');
    expect(toolResult?.content).toContain('OK');
    // ... and, where the protocol has reasoning state, gets it back unchanged.
    if (c.carriesReasoning) {
      expect(reasoning.signature).toBe(signature);
      expect(c.carriesReasoning(first!.raw, signature)).toBe(false);
      expect(c.carriesReasoning(second!.raw, signature)).toBe(true);
    }
    const state = await ok<{ agent: { block: { value: string } } }>(t, MEMORY, { id: agent.id });
    expect(state.agent.block.value).toContain('Likes tea.');
  });

  it('previews the raw payload in the provider’s own shape, without calling it', async () => {
    const agent = await newAgent(c);
    const before = model.requests.length;
    const preview = (await ok<{ previewRawPayload: { provider: string; model: string; url: string; payload: Record<string, unknown>; tokenCount: number; contextWindow: number } }>(t, PREVIEW, { agentId: agent.id, input: { input: 'What is the capital of Peru?' } })).previewRawPayload;
    expect(model.requests.length).toBe(before);
    expect(preview).toMatchObject({ provider: c.name, model: c.model, contextWindow: agent.contextWindowLimit });
    expect(preview.url.startsWith(model.origin)).toBe(true);
    const text = JSON.stringify(preview.payload);
    expect(text).toContain('What is the capital of Peru?');
    expect(text).toContain('Name: Ada'); // the memory, inside the system prompt
    const counts = model.countCalls.length;
    const ctx = (await ok<{ agent: { contextWindow: Overview } }>(t, MEMORY, { id: agent.id })).agent.contextWindow;
    // The overview understands this provider's body: system, memory and tools are all counted, and add up.
    expect(ctx.numTokensCoreMemory).toBeGreaterThan(0);
    expect(ctx.numTokensSystem).toBeGreaterThan(0);
    expect(ctx.numTokensFunctionsDefinitions).toBeGreaterThan(0);
    expect(sumOfParts(ctx)).toBe(ctx.contextWindowSizeCurrent);
    expect(preview.tokenCount).toBeGreaterThan(ctx.contextWindowSizeCurrent);
    const counted = COUNTED[c.protocol];
    if (counted) {
      // The provider's own count is the total; the request it counted is the one that would be sent.
      const call = model.countCalls.at(-1)!;
      expect(model.countCalls.length).toBe(counts + 1);
      expect(ctx).toMatchObject({ tokenizer: counted, tokenizerExact: true, contextWindowSizeCurrent: call.tokens });
      expect(JSON.stringify(call.body)).toContain('Name: Ada');
    } else {
      expect(model.countCalls.length).toBe(counts);
      expect(ctx.tokenizer).toBe('o200k_base');
    }
    switch (c.protocol) {
      case 'anthropic': {
        expect(preview.url).toBe(`${model.origin}/v1/messages`);
        const system = preview.payload.system as Array<{ text: string; cache_control?: unknown }>;
        // The prompt-cache breakpoint sits on the system prompt, which holds the memory.
        expect(system.at(-1)).toMatchObject({ cache_control: { type: 'ephemeral' } });
        expect(system.map((block) => block.text).join('')).toContain('Name: Ada');
        break;
      }
      case 'openai-responses':
        expect(preview.url).toMatch(/\/v1\/responses(\?|$)/);
        expect(preview.payload).toMatchObject({ model: c.model, store: false, include: ['reasoning.encrypted_content'], stream: true });
        break;
      case 'gemini':
        expect(preview.url).toBe(`${model.origin}/v1beta/models/${c.model}:streamGenerateContent?alt=sse`);
        expect(JSON.stringify(preview.payload.systemInstruction)).toContain('Name: Ada');
        break;
      case 'bedrock':
        expect(preview.url).toBe(`${model.origin}/model/${encodeURIComponent(c.model)}/converse-stream`);
        expect(preview.payload.system).toContainEqual({ cachePoint: { type: 'default' } });
        break;
      case 'openai-chat':
        expect(preview.url).toBe(`${model.origin}/v1/chat/completions`);
        break;
    }
  });
});

it('anthropic: redacted thinking is kept and sent back as it came', async () => {
  const c = PROVIDER_CASES.find((entry) => entry.kind === 'anthropic')!;
  const agent = await newAgent(c);
  const before = model.requests.length;
  model.enqueue(
    { reasoning: 'visible thought', signature: 'sig-visible', redactedReasoning: 'ENCRYPTED-BLOB', toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Plays chess.' } }] },
    { text: 'Noted.' },
  );
  const result = await send(agent.id, 'I play chess');
  expect(result.messages.map((message) => message.messageType)).toEqual(['REASONING_MESSAGE', 'HIDDEN_REASONING_MESSAGE', 'TOOL_CALL_MESSAGE', 'TOOL_RETURN_MESSAGE', 'ASSISTANT_MESSAGE']);
  expect(result.messages[1]).toMatchObject({ state: 'REDACTED', hiddenReasoning: 'ENCRYPTED-BLOB' });
  const assistant = (model.requests[before + 1]!.raw.messages as Array<{ role: string; content: Array<Record<string, unknown>> }>).find((message) => message.role === 'assistant')!;
  expect(assistant.content.map((block) => block.type)).toEqual(['thinking', 'redacted_thinking', 'tool_use']);
  expect(assistant.content[0]).toMatchObject({ thinking: 'visible thought', signature: 'sig-visible' });
  expect(assistant.content[1]).toEqual({ type: 'redacted_thinking', data: 'ENCRYPTED-BLOB' });
});

it('falls back to the tokenizer when the provider’s token count fails', async () => {
  const agent = (await ok<{ createAgent: { agent: { id: string } } }>(t, CREATE_AGENT, { input: { name: uniqueName('offline'), model: 'anthropic_offline/claude-sonnet-4-5' } })).createAgent.agent;
  const ctx = (await ok<{ agent: { contextWindow: Overview } }>(t, MEMORY, { id: agent.id })).agent.contextWindow;
  expect(ctx).toMatchObject({ tokenizer: 'o200k_base', tokenizerExact: false });
  expect(sumOfParts(ctx)).toBe(ctx.contextWindowSizeCurrent);
});

interface Fault {
  name: string;
  replies: (c: ProviderCase) => Reply[];
  stopReason: string;
  errorType: string;
  /** Model requests the run makes. */
  attempts: number;
  message?: RegExp;
}

const FAULTS: Fault[] = [
  { name: 'a model that times out', replies: () => [{ text: 'too late', delayMs: 2500 }], stopReason: 'LLM_API_ERROR', errorType: 'llm_timeout', attempts: 1 },
  { name: 'HTTP 429 on every attempt', replies: () => [{ status: 429 }, { status: 429 }, { status: 429 }], stopReason: 'LLM_API_ERROR', errorType: 'llm_rate_limit', attempts: 3, message: /LLM_MAX_RETRIES=2/ },
  {
    name: 'HTTP 429 asking for a wait beyond the bound',
    replies: () => [{ status: 429, retryAfter: '30' }],
    stopReason: 'LLM_API_ERROR',
    errorType: 'llm_rate_limit',
    attempts: 1,
    message: /LLM_RETRY_AFTER_MAX_MS=2000/,
  },
  { name: 'HTTP 401', replies: () => [{ status: 401 }], stopReason: 'LLM_API_ERROR', errorType: 'llm_authentication', attempts: 1 },
  { name: 'HTTP 500', replies: () => [{ status: 500 }], stopReason: 'LLM_API_ERROR', errorType: 'llm_error', attempts: 1 },
  {
    name: 'an overloaded provider (Anthropic 529, 503 elsewhere)',
    replies: (c) => [{ status: c.overloadedStatus }, { status: c.overloadedStatus }, { status: c.overloadedStatus }],
    stopReason: 'LLM_API_ERROR',
    errorType: 'llm_error',
    attempts: 3,
    message: /overloaded/i,
  },
  { name: 'a malformed stream chunk', replies: () => [{ text: 'an answer with a broken chunk in it', malformedChunk: true }], stopReason: 'INVALID_LLM_RESPONSE', errorType: 'llm_error', attempts: 1 },
  { name: 'a stream cut in the middle', replies: () => [{ text: 'this answer will never be finished by the model', cutAfterChunks: 3 }], stopReason: 'LLM_API_ERROR', errorType: 'llm_error', attempts: 1 },
  {
    name: 'an error event in the stream',
    replies: () => [{ text: 'starts well and then goes wrong half-way', streamError: { type: 'overloaded_error', message: 'Overloaded' } }],
    stopReason: 'LLM_API_ERROR',
    errorType: 'llm_error',
    attempts: 1,
  },
];

describe.each(PROVIDER_CASES)('$kind faults', (c) => {
  it.each(FAULTS)('$name → $stopReason ($errorType)', async (fault) => {
    const agent = await newAgent(c);
    const before = model.requests.length;
    model.enqueue(...fault.replies(c));
    const result = await send(agent.id, 'hello?');
    expect(result.run.status).toBe('FAILED');
    expect(result.stopReason).toBe(fault.stopReason);
    expect(result.run.metadata?.error?.error_type).toBe(fault.errorType);
    if (fault.message) expect(result.run.error?.message).toMatch(fault.message);
    expect(model.requests.length - before).toBe(fault.attempts);
    expect(model.requests.slice(before).every((request) => request.protocol === c.protocol)).toBe(true);
    expect(model.pending()).toBe(0);
    // The agent stays usable.
    model.enqueue({ text: 'back again' });
    const next = await send(agent.id, 'still there?');
    expect(next.stopReason).toBe('END_TURN');
    expect(next.messages.at(-1)!.content).toBe('back again');
  });

  it('honours a Retry-After within the bound and then succeeds', async () => {
    const agent = await newAgent(c);
    const before = model.requests.length;
    // 2 s: at the bound (LLM_RETRY_AFTER_MAX_MS=2000), and longer than the 1 s backoff used without Retry-After.
    model.enqueue({ status: 429, retryAfter: '2' }, { text: 'made it' });
    const result = await send(agent.id, 'hello?');
    expect(result.stopReason).toBe('END_TURN');
    expect(result.messages.at(-1)!.content).toBe('made it');
    const [refused, retried] = model.requests.slice(before);
    expect(retried!.time - refused!.time).toBeGreaterThanOrEqual(1950);
  });
});
