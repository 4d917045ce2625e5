import http from 'node:http';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { fixtureJson, uploadRequest } from './helpers/agent-files.js';

/**
 * Large HTTP results (issue 13) are written in slices, with the event loop free between them,
 * instead of in one JSON.stringify: the text must still be exactly what JSON.stringify writes.
 */

const IMPORT = parse(`mutation Import($file: Upload, $embedding: String) { importAgent(input: { file: $file, embedding: $embedding }) { agentIds } }`);
const FILE_STATE = `query($id: ID!) { file(id: $id) { processingStatus } }`;
const EXPORT = `query($id: ID!) { exportAgent(id: $id) }`;

/** Posts a query and returns the raw response: status, headers and the body's text. */
function post(t: TestServer, query: string, variables: Record<string, unknown>, accept = 'application/json') {
  const body = JSON.stringify({ query, variables });
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const request = http.request(t.url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', accept, 'content-length': Buffer.byteLength(body) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('large results are written in slices, byte for byte as JSON.stringify writes them', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ AUTH_MODE: 'disabled' });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('exports an agent with 1.2 MB of file text and 600 messages: the same text, escapes and surrogate pairs intact', async () => {
    // A surrogate pair across the first 512 Ki-character piece of a long string, and characters JSON escapes.
    const line = 'Quotes " and backslashes \\ and a tab\t, é and ü; ';
    const head = 'x'.repeat(512 * 1024 - 1);
    const content = `${head}😀${line.repeat(14_000)}`;
    const doc = fixtureJson('void.af');
    doc.files[0].content = content;
    const template = doc.agents[0].messages[0];
    doc.agents[0].messages.push(...Array.from({ length: 600 }, (_, i) => ({ ...template, id: `message-bulk-${i}`, role: 'user', content: [{ type: 'text', text: `message ${i} "quoted" ${'y'.repeat(100)}` }] })));
    const imported = await uploadRequest<{ importAgent: { agentIds: string[] } }>(t, IMPORT, JSON.stringify(doc), { embedding: 'local/hashed-ngram' }, { fileName: 'big.af' });
    expect(imported.errors).toBeUndefined();
    const [agentId] = imported.data!.importAgent.agentIds;
    const { data } = await t.request<{ agent: { files: { edges: Array<{ node: { file: { id: string } } }> } } }, { id: string }>(`query($id: ID!) { agent(id: $id) { files(first: 1) { edges { node { file { id } } } } } }`, { id: agentId! });
    const fileId = data!.agent.files.edges[0]!.node.file.id;
    for (;;) {
      const state = await t.request<{ file: { processingStatus: string } }, { id: string }>(FILE_STATE, { id: fileId });
      if (['COMPLETED', 'ERROR'].includes(state.data!.file.processingStatus)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const response = await post(t, EXPORT, { id: agentId });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const result = JSON.parse(response.text);
    expect(result.errors).toBeUndefined();
    expect(response.text).toBe(JSON.stringify(result));
    expect(result.data.exportAgent.files[0].content).toBe(content);
    expect(result.data.exportAgent.agents[0].messages.length).toBeGreaterThan(600);
    // Written in slices: no length known up front.
    expect(response.headers['content-length']).toBeUndefined();

    // The media type asked for is the one answered with, as for any other result.
    const asked = await post(t, EXPORT, { id: agentId }, 'application/graphql-response+json');
    expect(asked.headers['content-type']).toBe('application/graphql-response+json; charset=utf-8');
    expect(asked.text).toBe(JSON.stringify(JSON.parse(asked.text)));
  }, 300_000);

  it('a small result keeps its length header (one JSON.stringify)', async () => {
    const response = await post(t, `query { __typename }`, {});
    expect(response.text).toBe('{"data":{"__typename":"Query"}}');
    expect(response.headers['content-length']).toBe(String(response.text.length));
  });
});
