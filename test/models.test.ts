import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GEMINI_LISTED_INPUT_TOKENS } from './model-server/catalog.js';
import { closeAll, startTestServer, uniqueName, type GraphQLResult, type TestServer } from './helpers/server.js';
import { EMBEDDING_DIMENSIONS, startModelServer, type ModelServer } from './model-server/server.js';

/**
 * The model catalogue (models, embeddingModels, modelProviders), the default context window that
 * follows the model, and embeddings through each provider's SDK package, against the scripted
 * model server's model lists and embedding endpoints.
 */

const MODELS = `query ($provider: String, $supports: [ModelCapability!]) {
  models(provider: $provider, supports: $supports) { handle provider providerKind name displayName contextWindow maxOutputTokens supportsTools supportsReasoning supportsVision source }
}`;
const EMBEDDING_MODELS = `query ($provider: String) { embeddingModels(provider: $provider) { handle provider providerKind name dimensions source } }`;
const PROVIDERS = `{ modelProviders { name kind modelCount embeddingModelCount modelListError } }`;
const CREATE_AGENT = `mutation ($input: CreateAgentInput!) { createAgent(input: $input) { agent { id contextWindowLimit } } }`;
const ADD_PASSAGE = `mutation ($input: CreatePassageInput!) { createPassage(input: $input) { passage { id embedding embeddingDim } } }`;
const SEARCH = `query ($id: ID!, $query: String!) { agent(id: $id) { archivalSearch(query: $query, topK: 1) { content } } }`;

interface Model {
  handle: string;
  provider: string;
  providerKind: string;
  name: string;
  displayName: string | null;
  contextWindow: number | null;
  maxOutputTokens: number | null;
  supportsTools: boolean;
  supportsReasoning: boolean;
  supportsVision: boolean;
  source: string;
}

async function ok<T>(t: TestServer, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = (await t.request(query, variables as never)) as GraphQLResult<T>;
  if (result.errors?.length || !result.data) throw new Error(`GraphQL request failed: ${JSON.stringify(result.errors ?? result)}`);
  return result.data;
}

let model: ModelServer;
let t: TestServer;
beforeAll(async () => {
  model = await startModelServer({ models: ['gpt-5-mini', 'gpt-4', 'text-embedding-3-small', 'claude-sonnet-4-5', 'gemini-2.5-flash', 'gemini-embedding-001', 'nomic-embed-text', 'mystery-model'] });
  const providers = [
    { kind: 'openai', baseUrl: `${model.origin}/v1`, apiKey: 'sk-test' },
    { kind: 'anthropic', baseUrl: `${model.origin}/v1`, apiKey: 'sk-ant', models: [{ name: 'claude-custom', contextWindow: 50_000, reasoning: false, vision: false }] },
    { kind: 'google_ai', baseUrl: `${model.origin}/v1beta`, apiKey: 'g' },
    { kind: 'ollama', baseUrl: `${model.origin}/v1` },
    { kind: 'bedrock', region: 'us-east-1', accessKeyId: 'a', secretAccessKey: 'b', models: ['anthropic.claude-sonnet-4-5-v1:0'] },
    // Nothing listens on port 9: its list fails, its configured model is still offered.
    { name: 'offline', baseUrl: 'http://127.0.0.1:9/v1', models: [{ name: 'local-llama', contextWindow: 4096 }] },
  ];
  t = await startTestServer({ LLM_PROVIDERS: JSON.stringify(providers), PROVIDER_QUERY_TIMEOUT_MS: '2000' });
});
afterAll(() => closeAll(t, model));

const models = async (variables: Record<string, unknown> = {}) => (await ok<{ models: Model[] }>(t, MODELS, variables)).models;
const byHandle = async (handle: string) => (await models()).find((entry) => entry.handle === handle);

describe('models', () => {
  it('lists each provider’s models from its own API, with windows and capabilities', async () => {
    expect(await byHandle('openai/gpt-5-mini')).toEqual({
      handle: 'openai/gpt-5-mini',
      provider: 'openai',
      providerKind: 'OPENAI',
      name: 'gpt-5-mini',
      displayName: null,
      contextWindow: 400_000,
      maxOutputTokens: 128_000,
      supportsTools: true,
      supportsReasoning: true,
      supportsVision: true,
      source: 'PROVIDER_API',
    });
    // Anthropic's list (same path, its own shape) gives display names.
    expect(await byHandle('anthropic/claude-sonnet-4-5')).toMatchObject({ providerKind: 'ANTHROPIC', displayName: 'claude-sonnet-4-5', contextWindow: 200_000, supportsReasoning: true });
    // Gemini's list gives the window, and it wins over what is known of the family.
    expect(await byHandle('google_ai/gemini-2.5-flash')).toMatchObject({ providerKind: 'GOOGLE_AI', contextWindow: GEMINI_LISTED_INPUT_TOKENS, maxOutputTokens: 8192 });
    expect(await byHandle('ollama/mystery-model')).toMatchObject({ providerKind: 'OLLAMA', contextWindow: null, source: 'PROVIDER_API' });
  });

  it('adds configured models, which win, and offers a provider without a list its configured ones', async () => {
    expect(await byHandle('anthropic/claude-custom')).toMatchObject({ contextWindow: 50_000, supportsReasoning: false, source: 'CONFIGURATION' });
    expect(await byHandle('bedrock/anthropic.claude-sonnet-4-5-v1:0')).toMatchObject({ providerKind: 'BEDROCK', contextWindow: 200_000, source: 'CONFIGURATION' });
    const offline = await models({ provider: 'offline' });
    expect(offline).toEqual([expect.objectContaining({ handle: 'offline/local-llama', providerKind: 'OPENAI_COMPATIBLE', contextWindow: 4096, source: 'CONFIGURATION' })]);
    const providers = (await ok<{ modelProviders: Array<{ name: string; kind: string; modelListError: string | null; modelCount: number }> }>(t, PROVIDERS)).modelProviders;
    expect(providers.map((provider) => provider.name)).toEqual(['openai', 'anthropic', 'google_ai', 'ollama', 'bedrock', 'offline']);
    expect(providers.find((provider) => provider.name === 'offline')!.modelListError).toMatch(/model list is unavailable/);
    expect(providers.find((provider) => provider.name === 'openai')!.modelListError).toBeNull();
    expect(providers.find((provider) => provider.name === 'bedrock')).toMatchObject({ kind: 'BEDROCK', modelListError: null, modelCount: 1 });
  });

  it('filters by provider and capability, and keeps embedding models out', async () => {
    const reasoning = await models({ supports: ['REASONING', 'TOOLS'] });
    expect(reasoning.length).toBeGreaterThan(2);
    expect(reasoning.every((entry) => entry.supportsReasoning && entry.supportsTools)).toBe(true);
    expect(reasoning.map((entry) => entry.handle)).not.toContain('openai/gpt-4');
    const openai = await models({ provider: 'openai' });
    expect(openai.every((entry) => entry.provider === 'openai')).toBe(true);
    expect(openai.map((entry) => entry.name)).not.toContain('text-embedding-3-small');
    expect(await models({ provider: 'nobody' })).toEqual([]);
  });
});

describe('embeddingModels', () => {
  it('lists the built-in embedder, then the embedding models of providers that serve embeddings', async () => {
    const list = (await ok<{ embeddingModels: Array<{ handle: string; providerKind: string; dimensions: number | null; source: string }> }>(t, EMBEDDING_MODELS)).embeddingModels;
    expect(list[0]).toEqual({ handle: 'local/hashed-ngram', provider: 'local', providerKind: 'LOCAL', name: 'hashed-ngram', dimensions: 384, source: 'BUILT_IN' });
    const handles = list.map((entry) => entry.handle);
    expect(handles).toEqual(expect.arrayContaining(['openai/text-embedding-3-small', 'google_ai/gemini-embedding-001', 'ollama/nomic-embed-text']));
    expect(list.find((entry) => entry.handle === 'openai/text-embedding-3-small')).toMatchObject({ dimensions: 1536, source: 'PROVIDER_API' });
    // Anthropic lists the same ids on the same path, but serves no embeddings.
    expect(handles.some((handle) => handle.startsWith('anthropic/'))).toBe(false);
  });
});

describe('the default context window follows the model', () => {
  it.each([
    ['anthropic/claude-custom', 50_000, 'configured'],
    ['openai/gpt-4', 8_192, 'a known family'],
    ['openai/gpt-5-mini', 128_000, 'a larger window, capped at DEFAULT_CONTEXT_WINDOW'],
    ['openai/mystery-model', 128_000, 'unknown: DEFAULT_CONTEXT_WINDOW'],
  ])('%s → %i (%s)', async (handle, window) => {
    const agent = (await ok<{ createAgent: { agent: { contextWindowLimit: number } } }>(t, CREATE_AGENT, { input: { name: uniqueName('cw'), model: handle } })).createAgent.agent;
    expect(agent.contextWindowLimit).toBe(window);
  });

  it('an explicit contextWindowLimit wins', async () => {
    const agent = (await ok<{ createAgent: { agent: { contextWindowLimit: number } } }>(t, CREATE_AGENT, { input: { name: uniqueName('cw'), model: 'openai/gpt-4', contextWindowLimit: 6000 } })).createAgent.agent;
    expect(agent.contextWindowLimit).toBe(6000);
  });
});

describe('embeddings through each provider’s SDK package', () => {
  it.each([
    ['openai/text-embedding-3-small', '/v1/embeddings'],
    ['google_ai/gemini-embedding-001', '/v1beta/models/gemini-embedding-001:embedContent'],
    ['ollama/nomic-embed-text', '/api/embed'],
  ])('%s embeds through %s', async (handle, path) => {
    const agentId = (await ok<{ createAgent: { agent: { id: string } } }>(t, CREATE_AGENT, { input: { name: uniqueName('emb'), model: 'openai/gpt-4', embedding: handle } })).createAgent.agent.id;
    const text = `${uniqueName('passage')} about violins`;
    const passage = (await ok<{ createPassage: { passage: { embedding: string; embeddingDim: number } } }>(t, ADD_PASSAGE, { input: { agentId, text } })).createPassage.passage;
    expect(passage).toMatchObject({ embedding: handle, embeddingDim: EMBEDDING_DIMENSIONS });
    const call = model.embeddingCalls.find((entry) => entry.inputs.includes(text));
    expect(call).toMatchObject({ path, model: handle.split('/')[1] });
    const found = (await ok<{ agent: { archivalSearch: Array<{ content: string }> } }>(t, SEARCH, { id: agentId, query: 'violins' })).agent.archivalSearch;
    expect(found.map((entry) => entry.content)).toEqual([text]);
  });
});
