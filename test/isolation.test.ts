import http from 'node:http';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, collect, eventually, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { uploadFile } from './helpers/upload.js';
import { fixtureJson, uploadRequest } from './helpers/agent-files.js';
import type { ModelServer } from './model-server/server.js';

/**
 * Issue 13, "keep the event loop free": heavy work (big uploads, agent files, model-written
 * regexes) completes while a chat streams, and runs in the worker pool. No timing is asserted:
 * completion, correctness, and that /healthz and the stream kept answering throughout.
 */

const MIB = 1024 * 1024;
const CHAT = `subscription Chat($agentId: ID!, $text: String!) {
  chat(input: { agentId: $agentId, input: $text }) { __typename ... on MessageDeltaEvent { kind delta } ... on StopReasonEvent { stopReason } }
}`;
const FILE_UPDATED = `subscription Follow($fileId: ID!) { fileUpdated(fileId: $fileId) { file { processingStatus chunksEmbedded totalChunks } } }`;
const SEND = `mutation Send($agentId: ID!, $text: String!) {
  sendMessage(input: { agentId: $agentId, input: $text }) { stopReason messages { __typename ... on ToolReturnMessage { toolReturn status } } }
}`;
const UPLOAD = parse(`mutation Upload($folderId: ID!, $file: Upload!) { uploadFile(input: { folderId: $folderId, file: $file }) { file { id } } }`);
const IMPORT = parse(`mutation Import($file: Upload, $embedding: String) { importAgent(input: { file: $file, embedding: $embedding }) { agentIds } }`);

/** Markdown of about `bytes` bytes: numbered sections of ordinary lines. */
function markdown(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = i % 40 === 0 ? `## Section ${i / 40}` : `Line ${i}: the quick brown fox jumps over the lazy dog, lorem ipsum dolor sit amet.`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n').slice(0, bytes);
}

/** Lines of random 40-letter words of 'a' and 'b' (seeded: the same text every run), about `bytes` bytes. */
function randomWords(bytes: number): string {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const words: string[] = [];
  for (let size = 0; size < bytes; size += 41) {
    let word = '';
    for (let i = 0; i < 40; i++) word += random() < 0.5 ? 'a' : 'b';
    words.push(word, (words.length / 2) % 50 === 49 ? '\n' : ' ');
  }
  return words.join('');
}

const FILE_STATE = `query($id: ID!) { file(id: $id) { processingStatus errorMessage totalChunks chunksEmbedded } }`;

type ChatEvent = { __typename: string; kind?: string; delta?: string; stopReason?: string };

describe('isolation: heavy work completes off the main thread while streams run', () => {
  let model: ModelServer;
  let t: TestServer;
  let healthFailures: string[];
  let stopProbe: () => Promise<number>;

  const gql = async <T,>(query: string, variables?: Record<string, unknown>): Promise<T> => {
    const result = await t.request<T, Record<string, unknown>>(query, variables);
    if (result.errors?.length || !result.data) throw new Error(JSON.stringify(result.errors ?? result));
    return result.data;
  };
  const newAgent = async () => (await gql<{ createAgent: { agent: { id: string } } }>(`mutation { createAgent(input: { model: "test/scripted" }) { agent { id } } }`)).createAgent.agent.id;
  const newFolder = async (name: string, embedding?: string) =>
    (await gql<{ createFolder: { folder: { id: string } } }>(`mutation($input: CreateFolderInput!) { createFolder(input: $input) { folder { id } } }`, { input: { name, ...(embedding ? { embedding } : {}) } })).createFolder.folder.id;
  const attach = (agentId: string, folderId: string) => gql(`mutation($a: ID!, $f: ID!) { attachFolder(input: { agentId: $a, folderId: $f }) { changed } }`, { a: agentId, f: folderId });
  /** A chat that streams `text` in small deltas with a pause between them. */
  const startChat = (agentId: string, text: string) => {
    model.enqueue({ text, chunkSize: 8, chunkDelayMs: 20 });
    return collect<{ chat: ChatEvent }>(t.ws(), { query: CHAT, variables: { agentId, text: 'stream please' } });
  };
  const streamed = (state: { values: Array<{ chat: ChatEvent }> }) => state.values.map((value) => value.chat).filter((event) => event.kind === 'ASSISTANT').map((event) => event.delta).join('');
  const poolTasks = () => t.app.runtime.pool.stats().completed;
  /** Waits for a file's processing to end, reading only its state (not megabytes of text). */
  const settled = async (id: string) => {
    for (;;) {
      const { file } = await gql<{ file: { processingStatus: string; errorMessage: string | null; totalChunks: number | null; chunksEmbedded: number | null } }>(FILE_STATE, { id });
      if (file.processingStatus === 'COMPLETED' || file.processingStatus === 'ERROR') return file;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  /** Probes /healthz every 50 ms until stopped; every answer must be a 200. */
  const probeHealth = () => {
    let running = true;
    let probes = 0;
    const loop = (async () => {
      while (running) {
        // A fresh connection per probe: a failure is the server's, not a reused keep-alive socket's.
        const status = await new Promise<number | string>((resolve) => {
          http.get(new URL('/healthz', t.url), { agent: false }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          }).on('error', (error) => resolve(String(error)));
        });
        if (status !== 200) healthFailures.push(String(status));
        probes++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    return async () => {
      running = false;
      await loop;
      return probes;
    };
  };

  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({ AUTH_MODE: 'disabled', GREP_TIMEOUT_MS: '1000', WORKER_THREADS: '2' }));
    healthFailures = [];
    stopProbe = probeHealth();
  }, 120_000);
  afterAll(async () => {
    await stopProbe?.();
    await closeAll(t, model);
  });

  let bigFileId: string;

  it('a 10 MiB upload completes while a chat streams; its passages are written batch by batch', async () => {
    const agentId = await newAgent();
    const tasksBefore = poolTasks();
    const bigFolder = await newFolder('big');
    const content = markdown(10 * MIB);
    const chat = startChat(agentId, 'tokens keep flowing while a big file is processed. '.repeat(6));
    const uploaded = await uploadRequest<{ uploadFile: { file: { id: string } } }>(t, UPLOAD, content, { folderId: bigFolder }, { fileName: 'big.md' });
    expect(uploaded.errors).toBeUndefined();
    bigFileId = uploaded.data!.uploadFile.file.id;
    const follow = collect<{ fileUpdated: { file: { processingStatus: string; chunksEmbedded: number | null; totalChunks: number | null } } }>(t.ws(), {
      query: FILE_UPDATED,
      variables: { fileId: bigFileId },
    });

    await eventually(() => chat.completed || chat.errors.length > 0, undefined, 60_000);
    expect(chat.errors).toEqual([]);
    expect(streamed(chat)).toBe('tokens keep flowing while a big file is processed. '.repeat(6));

    const file = await settled(bigFileId);
    expect(file.errorMessage).toBeNull();
    expect(file.processingStatus).toBe('COMPLETED');
    expect(file.totalChunks).toBeGreaterThan(8000);
    expect(file.chunksEmbedded).toBe(file.totalChunks);
    expect((await gql<{ file: { content: string } }>(`query($id: ID!) { file(id: $id) { content } }`, { id: bigFileId })).file.content).toBe(content);
    expect(await t.app.db.prisma.passage.count({ where: { fileId: bigFileId } })).toBe(file.totalChunks);
    // Written in many statements, not one transaction: now() (createdAt) differs between batches.
    const [{ writes }] = (await t.app.db.prisma.$queryRaw<Array<{ writes: number }>>`SELECT count(DISTINCT "createdAt")::int AS writes FROM "Passage" WHERE "fileId" = ${bigFileId}`) as [{ writes: number }];
    expect(writes).toBeGreaterThan(file.totalChunks! / 64);

    // Progress came batch by batch: several partial counts between none and all.
    await eventually(() => follow.completed, undefined, 30_000);
    const partial = new Set(follow.values.map((value) => value.fileUpdated.file.chunksEmbedded).filter((count) => count && count < file.totalChunks!));
    expect(partial.size).toBeGreaterThan(2);
    // Parsing, chunking and every batch's embedding ran in the pool.
    expect(poolTasks() - tasksBefore).toBeGreaterThan(file.totalChunks! / 32);
  }, 1_800_000);

  it('a large upload is decoded in the worker pool; one that is not UTF-8 text is refused as before', async () => {
    const folder = await newFolder('decoded');
    const text = `${'é'.repeat(200_000)}\n${markdown(300 * 1024)}`;
    const tasksBefore = poolTasks();
    const uploaded = await uploadFile(t, folder, 'large.md', text);
    expect(uploaded.errors).toBeUndefined();
    expect(poolTasks()).toBeGreaterThan(tasksBefore); // decoded there before the upload answered
    const { file } = await gql<{ file: { content: string } }>(`query($id: ID!) { file(id: $id) { content } }`, { id: uploaded.data!.uploadFile.file.id });
    expect(file.content).toBe(text);
    const binary = new Uint8Array(400 * 1024).fill(0x61);
    binary[1000] = 0;
    const refused = await uploadFile(t, folder, 'binary.txt', binary);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNSUPPORTED_MEDIA_TYPE' });
  }, 300_000);

  it('a stored processing error is one line with no stack trace or source path', async () => {
    const folder = await newFolder('remote', 'test/scripted-embedder');
    const uploaded = await uploadFile(t, folder, 'trace.txt', 'FAIL_EMBEDDING_WITH_TRACE please');
    const file = await settled(uploaded.data!.uploadFile.file.id);
    expect(file.processingStatus).toBe('ERROR');
    expect(file.errorMessage).toContain("Embedding with 'test/scripted-embedder' failed");
    expect(file.errorMessage).not.toMatch(/\n|\/srv\/|\.ts:\d+|\bat handler\b/);
  }, 300_000);

  it('grep_files runs a catastrophic pattern in linear time; unsupported patterns and slow searches are tool errors', async () => {
    const small = await newFolder('small');
    await settled((await uploadFile(t, small, 'aaa.txt', `${'a'.repeat(5000)}!\nplain line\n${'a'.repeat(40)}`)).data!.uploadFile.file.id);
    const agentId = await newAgent();
    await attach(agentId, small);
    model.enqueue(
      { toolCalls: [{ name: 'grep_files', arguments: { pattern: '^(a+)+$' } }] },
      { toolCalls: [{ name: 'grep_files', arguments: { pattern: '(a)\\1' } }] },
      { text: 'Done.' },
    );
    const tasksBefore = poolTasks();
    const sent = (await gql<{ sendMessage: { stopReason: string; messages: Array<{ __typename: string; toolReturn?: string; status?: string }> } }>(SEND, { agentId, text: 'search' })).sendMessage;
    expect(sent.stopReason).toBe('END_TURN');
    const [catastrophic, backreference] = sent.messages.filter((message) => message.__typename === 'ToolReturnMessage');
    expect(catastrophic).toMatchObject({ status: 'SUCCESS' });
    expect(catastrophic!.toolReturn).toContain('Found 1 total matches');
    expect(catastrophic!.toolReturn).toContain('aaa.txt:3');
    expect(backreference).toMatchObject({ status: 'ERROR' });
    expect(backreference!.toolReturn).toContain("Invalid regex pattern '(a)\\1'");
    expect(backreference!.toolReturn).toContain('RE2 syntax');
    expect(poolTasks() - tasksBefore).toBeGreaterThanOrEqual(2);

    // A search that outlives GREP_TIMEOUT_MS (1 s here) ends as a tool error. RE2 is linear, and its
    // lazy DFA makes most scans fast; this one defeats the DFA (every 40-letter random a/b word is a
    // new state), so 2 MiB take about 8 s even on a fast machine.
    const hard = await newFolder('random-words');
    await settled((await uploadFile(t, hard, 'words.txt', randomWords(2 * MIB))).data!.uploadFile.file.id);
    const slowAgent = await newAgent();
    await attach(slowAgent, hard);
    const chat = startChat(await newAgent(), 'still streaming during a slow search. '.repeat(4));
    // The chat takes its scripted reply first; the search's replies are queued after it.
    await eventually(() => model.pending() === 0 || chat.errors.length > 0, undefined, 60_000);
    model.enqueue({ toolCalls: [{ name: 'grep_files', arguments: { pattern: 'a[ab]{40}' } }] }, { text: 'Gave up.' });
    const slow = (await gql<{ sendMessage: { stopReason: string; messages: Array<{ __typename: string; toolReturn?: string; status?: string }> } }>(SEND, { agentId: slowAgent, text: 'search slowly' })).sendMessage;
    const [timedOut] = slow.messages.filter((message) => message.__typename === 'ToolReturnMessage');
    expect(timedOut).toMatchObject({ status: 'ERROR' });
    expect(timedOut!.toolReturn).toContain('did not finish within 1000 ms');
    await eventually(() => chat.completed || chat.errors.length > 0, undefined, 60_000);
    expect(streamed(chat)).toBe('still streaming during a slow search. '.repeat(4));
  }, 300_000);

  it('imports and exports a large agent file (its file re-processed in the pool) while a chat streams', async () => {
    const doc = fixtureJson('void.af');
    const content = markdown(4 * MIB);
    doc.files[0].content = content;
    const template = doc.agents[0].messages[0];
    doc.agents[0].messages.push(...Array.from({ length: 3000 }, (_, i) => ({ ...template, id: `message-bulk-${i}`, role: 'user', content: [{ type: 'text', text: `bulk message ${i} ${'x'.repeat(200)}` }] })));
    const text = JSON.stringify(doc);
    expect(text.length).toBeGreaterThan(4.5 * MIB);

    const tasksBefore = poolTasks();
    const chat = startChat(await newAgent(), 'streaming through an import and an export. '.repeat(5));
    const imported = await uploadRequest<{ importAgent: { agentIds: string[] } }>(t, IMPORT, text, { embedding: 'local/hashed-ngram' }, { fileName: 'big.af' });
    expect(imported.errors).toBeUndefined();
    const [agentId] = imported.data!.importAgent.agentIds;

    const files = await gql<{ agent: { files: { edges: Array<{ node: { file: { id: string } } }> } } }>(`query($id: ID!) { agent(id: $id) { files(first: 5) { edges { node { file { id } } } } } }`, { id: agentId });
    const fileId = files.agent.files.edges[0]!.node.file.id;
    expect(await settled(fileId)).toMatchObject({ processingStatus: 'COMPLETED' });

    const exported = (await gql<{ exportAgent: any }>(`query($id: ID!) { exportAgent(id: $id) }`, { id: agentId })).exportAgent;
    expect(exported.files[0].content).toBe(content);
    expect(exported.agents[0].messages.length).toBeGreaterThan(3000);

    await eventually(() => chat.completed || chat.errors.length > 0, undefined, 60_000);
    expect(chat.errors).toEqual([]);
    expect(streamed(chat)).toBe('streaming through an import and an export. '.repeat(5));
    // Reading the agent file, then chunking and embedding its file, ran in the pool.
    expect(poolTasks() - tasksBefore).toBeGreaterThan(10);
  }, 1_800_000);

  it('/healthz answered every probe throughout', async () => {
    const probes = await stopProbe();
    expect(probes).toBeGreaterThan(10);
    expect(healthFailures).toEqual([]);
  });
});
