import { startModelServer } from '/work/wt/providers/test/model-server/server.js';
import { createModelRegistry } from '/work/wt/providers/src/agent/llm/providers.js';
import { providerEntry } from '/work/wt/providers/src/config-providers.js';
import { callModel } from '/work/wt/providers/src/agent/llm/call.js';

const server = await startModelServer({ awsSecretAccessKey: 'secret' });
const o = server.origin;
const registry = createModelRegistry([
  providerEntry({ kind: 'openai', baseUrl: `${o}/v1`, apiKey: 'k' }),
  providerEntry({ kind: 'anthropic', baseUrl: `${o}/v1`, apiKey: 'k' }),
  providerEntry({ kind: 'google_ai', baseUrl: `${o}/v1beta`, apiKey: 'k' }),
  providerEntry({ kind: 'azure', baseUrl: `${o}/openai`, apiKey: 'k' }),
  providerEntry({ kind: 'bedrock', baseUrl: o, region: 'us-east-1', accessKeyId: 'AKID', secretAccessKey: 'secret' }),
]);
const handles = process.argv.slice(2);
for (const handle of handles) {
  server.enqueue({ reasoning: 'thinking hard', text: 'hello there', toolCalls: [{ name: 'f', arguments: { a: 1 } }], signature: 'SIG1' });
  const turn = await callModel({
    model: registry.resolve(handle),
    prompt: [{ role: 'system', content: 'sys' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    tools: [{ type: 'function', name: 'f', description: 'd', inputSchema: { type: 'object', properties: { a: { type: 'number' } } } }],
    cancel: new AbortController().signal,
    timeoutMs: 5000,
  }).catch((e) => ({ error: String(e), detail: e.detail }));
  console.log(handle, JSON.stringify(turn, (k, v) => (typeof v === 'bigint' ? String(v) : v)));
  const last = server.requests.at(-1);
  console.log('  raw:', JSON.stringify(last?.raw).slice(0, 600));
}
await server.close();
