import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureJson } from './helpers/agent-files.js';
import { closeAll, startTestServer, type GraphQLResult, type TestServer } from './helpers/server.js';
import { startModelServer, type ModelServer } from './model-server/server.js';

/**
 * An imported agent file's llm_config becomes a handle of a provider configured here: the real
 * void.af names a Google model under its exporter's BYOK provider "gemini-something"; here it
 * runs on this server's google_ai provider, whatever its name. A file whose provider is not
 * configured still imports, its sends fail as before, and a model override at import maps it.
 */

const IMPORT = `mutation ($input: ImportAgentInput!) { importAgent(input: $input) { agentIds } }`;
const AGENT = `query ($id: ID!) { agent(id: $id) { model contextWindowLimit } }`;
const SEND = `mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) { stopReason messages { messageType ... on AssistantMessage { content } } }
}`;

let model: ModelServer;
let t: TestServer;
beforeAll(async () => {
  model = await startModelServer();
  t = await startTestServer({
    LLM_PROVIDERS: JSON.stringify([
      { name: 'gemini', kind: 'google_ai', baseUrl: `${model.origin}/v1beta`, apiKey: 'g' },
      { kind: 'anthropic', baseUrl: `${model.origin}/v1`, apiKey: 'a' },
    ]),
  });
});
afterAll(() => closeAll(t, model));

async function importFile(json: unknown, options: Record<string, unknown> = {}): Promise<string> {
  const result = (await t.request(IMPORT, { input: { json, ...options } } as never)) as GraphQLResult<{ importAgent: { agentIds: string[] } }>;
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!.importAgent.agentIds[0]!;
}
const modelOf = async (id: string) => ((await t.request(AGENT, { id } as never)) as GraphQLResult<{ agent: { model: string; contextWindowLimit: number } }>).data!.agent;

describe('importing an agent file maps its llm_config to a configured provider', () => {
  it('void.af (a BYOK Google handle) runs on this server’s google_ai provider', async () => {
    const doc = fixtureJson('void.af');
    expect(doc.agents[0].llm_config.handle).toBe('gemini-something/gemini-2.5-pro');
    const id = await importFile(doc, { stripMessages: true });
    // The file's own context_window stays the agent's setting.
    expect(await modelOf(id)).toEqual({ model: 'gemini/gemini-2.5-pro', contextWindowLimit: 80_000 });

    const before = model.requests.length;
    model.enqueue({ toolCalls: [{ name: 'send_message', arguments: { message: 'void speaks' } }] });
    const result = ((await t.request(SEND, { input: { agentId: id, input: 'hello void' } } as never)) as GraphQLResult<{ sendMessage: { stopReason: string; messages: Array<{ messageType: string; content?: string }> } }>).data!.sendMessage;
    expect(result.messages.find((message) => message.messageType === 'ASSISTANT_MESSAGE')?.content).toBe('void speaks');
    expect(model.requests[before]).toMatchObject({ protocol: 'gemini', path: '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse' });
  });

  it('keeps a handle whose provider is configured here', async () => {
    const id = await importFile(fixtureJson('deep_research_agent.af'), { stripMessages: true });
    expect((await modelOf(id)).model).toBe('anthropic/claude-sonnet-4-5-20250929');
  });

  it('imports a file of an unconfigured provider, whose sends then fail; a model override maps it', async () => {
    const doc = fixtureJson('void.af');
    doc.agents[0].llm_config = { ...doc.agents[0].llm_config, model_endpoint_type: 'xai', handle: 'my-xai/grok-4', model: 'grok-4' };
    const id = await importFile(doc, { stripMessages: true });
    expect((await modelOf(id)).model).toBe('xai/grok-4');
    const failed = (await t.request(SEND, { input: { agentId: id, input: 'hello?' } } as never)) as GraphQLResult<unknown>;
    expect(failed.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringMatching(/'xai\/grok-4' names no configured provider; configured providers: gemini, anthropic/) });

    const mapped = await importFile(doc, { stripMessages: true, model: 'anthropic/claude-sonnet-4-5' });
    expect((await modelOf(mapped)).model).toBe('anthropic/claude-sonnet-4-5');
    model.enqueue({ toolCalls: [{ name: 'send_message', arguments: { message: 'mapped' } }] });
    const before = model.requests.length;
    const sent = ((await t.request(SEND, { input: { agentId: mapped, input: 'hello' } } as never)) as GraphQLResult<{ sendMessage: { stopReason: string } }>).data!.sendMessage;
    expect(sent.stopReason).toBeDefined();
    expect(model.requests[before]!.protocol).toBe('anthropic');
  });
});
