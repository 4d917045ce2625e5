import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, collect, eventually, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { uploadFile, waitForFile } from './helpers/upload.js';
import type { ModelServer } from './model-server/server.js';

const FdFolder = graphql(`
  mutation FdFolder($input: CreateFolderInput!) { createFolder(input: $input) { folder { id name } } }
`);
const FdAgent = graphql(`
  mutation FdAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const FdAttach = graphql(`
  mutation FdAttach($agentId: ID!, $folderId: ID!) { attachFolder(input: { agentId: $agentId, folderId: $folderId }) { changed } }
`);
const FdDeleteFolder = graphql(`
  mutation FdDeleteFolder($id: ID!) { deleteFolder(input: { id: $id }) { deletedFolderId } }
`);
const FdDeleteFile = graphql(`
  mutation FdDeleteFile($id: ID!) { deleteFile(input: { id: $id }) { deletedFileId } }
`);
const FdAgentState = graphql(`
  query FdAgentState($id: ID!) {
    agent(id: $id) { memory folders { id } tools { name } files(first: 50) { edges { node { fileName } } } }
  }
`);
const FdLookup = graphql(`
  query FdLookup($folderId: ID!, $fileId: ID!) {
    folder(id: $folderId) { id }
    file(id: $fileId) { id }
  }
`);
const FdFolders = graphql(`
  query FdFolders { folders(first: 100) { edges { node { id } } } }
`);

const FdFolderPage = graphql(`
  query FdFolderPage($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    folder(id: $id) { files(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { fileName } } pageInfo { hasNextPage hasPreviousPage } } }
  }
`);
const FdAgentPage = graphql(`
  query FdAgentPage($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $isOpen: Boolean) {
    agent(id: $id) { files(first: $first, after: $after, last: $last, before: $before, isOpen: $isOpen) { edges { cursor node { fileName isOpen } } pageInfo { hasNextPage hasPreviousPage } } }
  }
`);

const FdUpdate = graphql(`
  mutation FdUpdate($input: UpdateFolderInput!) {
    updateFolder(input: $input) { folder { id name description instructions metadata agents { id } } }
  }
`);
const FdFolderAgents = graphql(`
  query FdFolderAgents($id: ID!) { folder(id: $id) { agents { id name } } }
`);
const FdDetach = graphql(`
  mutation FdDetach($agentId: ID!, $folderId: ID!) { detachFolder(input: { agentId: $agentId, folderId: $folderId }) { changed } }
`);
const FdDeleteAgent = graphql(`
  mutation FdDeleteAgent($id: ID!) { deleteAgent(input: { id: $id }) { deletedAgentId } }
`);

const codeOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => result.errors?.[0]?.extensions?.code;
const FILE_TOOLS = ['open_files', 'grep_files', 'semantic_search_files'];

describe('deleting folders and files', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({ AUTH_MODE: 'disabled' }));
  });
  afterAll(() => closeAll(t, model));

  const newFolder = async (name: string, input: Record<string, unknown> = {}) =>
    (await t.ok(FdFolder, { input: { name: `${name}-${Math.random().toString(36).slice(2, 8)}`, ...input } })).createFolder.folder;
  const newAgent = async () => (await t.ok(FdAgent, { input: { model: 'test/scripted' } })).createAgent.agent.id;
  const stateOf = async (id: string) => {
    const agent = (await t.ok(FdAgentState, { id })).agent!;
    return { ...agent, tools: agent.tools.map((tool) => tool.name), folders: agent.folders.map((folder) => folder.id), files: agent.files.edges.map((edge) => edge.node.fileName) };
  };
  const uploaded = async (folderId: string, name: string, text: string) => {
    const file = (await uploadFile(t, folderId, name, text)).data!.uploadFile.file;
    return waitForFile(t, file.id);
  };

  it('deleteFolder removes its files, passages and views; agents lose its files and, with their last folder, the file tools', async () => {
    const gone = await newFolder('gone', { instructions: 'Read the gone guide.' });
    const kept = await newFolder('kept');
    const guide = await uploaded(gone.id, 'guide.md', '# Guide\nInstall with npm.');
    await uploaded(kept.id, 'notes.txt', 'The budget was approved.');
    const onlyGone = await newAgent();
    const both = await newAgent();
    await t.ok(FdAttach, { agentId: onlyGone, folderId: gone.id });
    await t.ok(FdAttach, { agentId: both, folderId: gone.id });
    await t.ok(FdAttach, { agentId: both, folderId: kept.id });
    expect((await stateOf(onlyGone)).memory).toContain(`<directory name="${gone.name}">`);
    expect(await t.app.db.prisma.passage.count({ where: { folderId: gone.id } })).toBeGreaterThan(0);

    expect((await t.ok(FdDeleteFolder, { id: gone.id })).deleteFolder.deletedFolderId).toBe(gone.id);

    const lookup = await t.request(FdLookup, { folderId: gone.id, fileId: guide.id });
    expect(lookup.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect((await t.ok(FdFolders, {})).folders.edges.map((edge) => edge.node.id)).not.toContain(gone.id);
    expect(await t.app.db.prisma.passage.count({ where: { folderId: gone.id } })).toBe(0);
    expect(await t.app.db.prisma.file.count({ where: { folderId: gone.id } })).toBe(0);

    const first = await stateOf(onlyGone);
    expect(first).toMatchObject({ folders: [], files: [] });
    expect(first.tools).not.toEqual(expect.arrayContaining(['open_files']));
    expect(first.memory).not.toContain('<directories>');
    expect(first.memory).not.toContain(gone.name);

    const second = await stateOf(both);
    expect(second).toMatchObject({ folders: [kept.id], files: [`${kept.name}/notes.txt`] });
    expect(second.tools).toEqual(expect.arrayContaining(FILE_TOOLS));
    expect(second.memory).toContain(`<directory name="${kept.name}">`);
    expect(second.memory).not.toContain(gone.name);
  });

  it('pages folder.files and agent.files: first pages, cursors, filters and bad arguments', async () => {
    const folder = await newFolder('paged');
    for (const name of ['c.txt', 'a.txt', 'b.txt']) await uploaded(folder.id, name, `text of ${name}`);
    const agentId = (await t.ok(FdAgent, { input: { model: 'test/scripted', maxFilesOpen: 2 } })).createAgent.agent.id;
    await t.ok(FdAttach, { agentId, folderId: folder.id });

    const folderPage = async (args: { first?: number; after?: string; last?: number; before?: string }) => {
      const files = (await t.ok(FdFolderPage, { id: folder.id, ...args })).folder!.files;
      return { names: files.edges.map((edge) => edge.node.fileName), cursors: files.edges.map((edge) => edge.cursor), ...files.pageInfo };
    };
    const firstTwo = await folderPage({ first: 2 });
    expect(firstTwo).toMatchObject({ names: ['c.txt', 'a.txt'], hasNextPage: true, hasPreviousPage: false });
    expect(await folderPage({ first: 2, after: firstTwo.cursors[1] })).toMatchObject({ names: ['b.txt'], hasNextPage: false, hasPreviousPage: true });
    expect(await folderPage({ last: 1 })).toMatchObject({ names: ['b.txt'], hasPreviousPage: true });
    expect(await folderPage({ first: 0 })).toMatchObject({ names: [], hasNextPage: true });
    expect(codeOf(await t.request(FdFolderPage, { id: folder.id, first: -1 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.request(FdFolderPage, { id: folder.id, first: 501 }))).toBe('BAD_USER_INPUT');

    const agentPage = async (args: { first?: number; after?: string; isOpen?: boolean }) => {
      const files = (await t.ok(FdAgentPage, { id: agentId, ...args })).agent!.files;
      return { names: files.edges.map((edge) => edge.node.fileName), cursors: files.edges.map((edge) => edge.cursor), ...files.pageInfo };
    };
    const p = folder.name;
    const one = await agentPage({ first: 1 });
    expect(one).toMatchObject({ names: [`${p}/a.txt`], hasNextPage: true, hasPreviousPage: false });
    expect(await agentPage({ first: 5, after: one.cursors[0] })).toMatchObject({ names: [`${p}/b.txt`, `${p}/c.txt`], hasNextPage: false, hasPreviousPage: true });
    // The newest two uploads are open (maxFilesOpen 2); the oldest, c.txt, is closed.
    expect((await agentPage({ isOpen: false })).names).toEqual([`${p}/c.txt`]);
    expect((await agentPage({ isOpen: true })).names).toEqual([`${p}/a.txt`, `${p}/b.txt`]);
    expect(codeOf(await t.request(FdAgentPage, { id: agentId, first: -1 }))).toBe('BAD_USER_INPUT');
    // Backward paging is not offered: asking for it is an error, not a silently forward page.
    for (const args of [{ last: 1 }, { before: one.cursors[0] }]) {
      const backward = await t.request(FdAgentPage, { id: agentId, ...args });
      expect(codeOf(backward)).toBe('BAD_USER_INPUT');
      expect(backward.errors![0]!.message).toContain(Object.keys(args)[0]);
    }
    expect(codeOf(await t.request(FdAgentPage, { id: agentId, after: 'file_agent-00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
  });

  it('refuses unknown, foreign and malformed ids', async () => {
    const folder = await newFolder('mine');
    const file = await uploaded(folder.id, 'a.txt', 'text');
    const other = await t.newOrganization();
    expect(codeOf(await t.request(FdDeleteFolder, { id: folder.id }, { token: other.token }))).toBe('NOT_FOUND');
    expect(codeOf(await t.request(FdDeleteFile, { id: file.id }, { token: other.token }))).toBe('NOT_FOUND');
    expect(codeOf(await t.request(FdDeleteFolder, { id: 'source-00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
    expect(codeOf(await t.request(FdDeleteFolder, { id: 'folder-1' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.request(FdDeleteFolder, { id: file.id }))).toBe('BAD_USER_INPUT');
    // Nothing was deleted by the refused calls; a second delete of the same folder is NOT_FOUND.
    expect((await t.ok(FdLookup, { folderId: folder.id, fileId: file.id })).file).toEqual({ id: file.id });
    await t.ok(FdDeleteFolder, { id: folder.id });
    expect(codeOf(await t.request(FdDeleteFolder, { id: folder.id }))).toBe('NOT_FOUND');
  });

  it('a file still being embedded when its folder or the file is deleted leaves no passages behind', async () => {
    const agentId = await newAgent();
    for (const target of ['folder', 'file'] as const) {
      const folder = await newFolder(`busy-${target}`, { embedding: 'test/scripted-embedder' });
      await t.ok(FdAttach, { agentId, folderId: folder.id });
      const text = Array.from({ length: 40 }, (_, i) => `${i === 35 ? 'HOLD_EMBEDDING ' : ''}${'chunk '.repeat(190)}${i}`).join('\n');
      const file = (await uploadFile(t, folder.id, 'busy.txt', text)).data!.uploadFile.file;
      // The first batch of 32 chunks is embedded; the second waits in the model server.
      await eventually(() => model.heldEmbeddings() === 1);
      if (target === 'folder') await t.ok(FdDeleteFolder, { id: folder.id });
      else await t.ok(FdDeleteFile, { id: file.id });
      model.releaseEmbeddings();
      await t.app.runtime.fileJobs.idle();
      expect(await t.app.db.prisma.passage.count({ where: { fileId: file.id } })).toBe(0);
      expect(await t.app.db.prisma.fileAgent.count({ where: { fileId: file.id } })).toBe(0);
      expect(codeOf(await t.request(FdLookup, { folderId: folder.id, fileId: file.id }))).toBe('NOT_FOUND');
      expect((await stateOf(agentId)).memory).not.toContain('busy.txt');
    }
  });

  it('fileUpdated follows an upload through its statuses to the end, over graphql-ws', async () => {
    type Update = { fileUpdated: { fileId: string; deleted: boolean; file: { processingStatus: string; chunksEmbedded: number | null; totalChunks: number | null; errorMessage: string | null } | null } };
    const FOLLOW = `subscription($id: ID!) { fileUpdated(fileId: $id) { fileId deleted file { processingStatus chunksEmbedded totalChunks errorMessage } } }`;
    const RANK = ['PENDING', 'PARSING', 'EMBEDDING', 'COMPLETED'];
    const folder = await newFolder('followed', { embedding: 'test/scripted-embedder' });

    // A file of two embedding batches, the second held until the subscriber has seen EMBEDDING.
    const text = Array.from({ length: 40 }, (_, i) => `${i === 35 ? 'HOLD_EMBEDDING ' : ''}${'chunk '.repeat(190)}${i}`).join('\n');
    const file = (await uploadFile(t, folder.id, 'big.txt', text)).data!.uploadFile.file;
    const followed = collect<Update>(t.ws(), { query: FOLLOW, variables: { id: file.id } });
    await eventually(() => followed.values.some((value) => value.fileUpdated.file?.processingStatus === 'EMBEDDING') && model.heldEmbeddings() === 1);
    model.releaseEmbeddings();
    await eventually(() => followed.completed, undefined, 20_000);
    expect(followed.errors).toEqual([]);
    const updates = followed.values.map((value) => value.fileUpdated);
    expect(updates.every((update) => update.fileId === file.id && !update.deleted)).toBe(true);
    const statuses = updates.map((update) => update.file!.processingStatus);
    expect(statuses.map((status) => RANK.indexOf(status))).toEqual([...statuses.map((status) => RANK.indexOf(status))].sort((a, b) => a - b));
    expect(statuses).toContain('EMBEDDING');
    expect(updates.at(-1)!.file).toMatchObject({ processingStatus: 'COMPLETED', chunksEmbedded: 40, totalChunks: 40 });

    // Already finished: its state, then the end.
    const again = collect<Update>(t.ws(), { query: FOLLOW, variables: { id: file.id } });
    await eventually(() => again.completed);
    expect(again.values.map((value) => value.fileUpdated.file?.processingStatus)).toEqual(['COMPLETED']);

    // A file that cannot be parsed ends in ERROR with its message.
    const binary = (await uploadFile(t, folder.id, 'data.json', '{"broken": ')).data!.uploadFile.file;
    const failing = collect<Update>(t.ws(), { query: FOLLOW, variables: { id: binary.id } });
    await eventually(() => failing.completed, undefined, 20_000);
    expect(failing.values.at(-1)!.fileUpdated.file).toMatchObject({ processingStatus: 'ERROR' });
    expect(failing.values.at(-1)!.fileUpdated.file!.errorMessage).toBeTruthy();

    // Deleted while it is being embedded: one last update saying so.
    const doomed = (await uploadFile(t, folder.id, 'doomed.txt', text)).data!.uploadFile.file;
    const watching = collect<Update>(t.ws(), { query: FOLLOW, variables: { id: doomed.id } });
    await eventually(() => model.heldEmbeddings() === 1 && watching.values.length > 0);
    await t.ok(FdDeleteFile, { id: doomed.id });
    await eventually(() => watching.completed);
    expect(watching.values.at(-1)!.fileUpdated).toMatchObject({ deleted: true, file: null });
    model.releaseEmbeddings();
    await t.app.runtime.fileJobs.idle();

    // Unknown, foreign and malformed ids.
    const other = await t.newOrganization();
    for (const [client, id, code] of [
      [t.ws(), 'file-00000000-0000-4000-8000-000000000000', 'NOT_FOUND'],
      [t.ws({ token: other.token }), file.id, 'NOT_FOUND'],
      [t.ws(), 'file-1', 'BAD_USER_INPUT'],
    ] as const) {
      const refused = collect<Update>(client, { query: FOLLOW, variables: { id } });
      await eventually(() => refused.errors.length > 0 || refused.completed);
      expect(JSON.stringify(refused.errors)).toContain(code);
    }
  });

  it('folder.agents lists the agents that have it attached, in attach order', async () => {
    const folder = await newFolder('shared');
    const [a, b, c] = [await newAgent(), await newAgent(), await newAgent()];
    for (const agentId of [b, a, c]) await t.ok(FdAttach, { agentId, folderId: folder.id });
    const agentsOf = async () => (await t.ok(FdFolderAgents, { id: folder.id })).folder!.agents.map((agent) => agent.id);
    expect(await agentsOf()).toEqual([b, a, c]);
    await t.ok(FdDetach, { agentId: a, folderId: folder.id });
    await t.ok(FdDeleteAgent, { id: c });
    expect(await agentsOf()).toEqual([b]);
    const other = await t.newOrganization();
    expect(codeOf(await t.request(FdFolderAgents, { id: folder.id }, { token: other.token }))).toBe('NOT_FOUND');
  });

  it('updateFolder renames what agents see and shows new instructions at once; refuses bad input', async () => {
    const folder = await newFolder('before', { description: 'Old description', instructions: 'Old instructions.' });
    const file = await uploaded(folder.id, 'guide.md', '# Guide\nInstall with npm.');
    const agentId = await newAgent();
    await t.ok(FdAttach, { agentId, folderId: folder.id });
    expect((await stateOf(agentId)).files).toEqual([`${folder.name}/guide.md`]);

    const name = `after-${Math.random().toString(36).slice(2, 8)}`;
    const updated = (await t.ok(FdUpdate, { input: { id: folder.id, name, instructions: 'Read the guide first.', description: null, metadata: { team: 'docs' } } })).updateFolder.folder;
    expect(updated).toEqual({ id: folder.id, name, description: null, instructions: 'Read the guide first.', metadata: { team: 'docs' }, agents: [{ id: agentId }] });
    const state = await stateOf(agentId);
    expect(state.files).toEqual([`${name}/guide.md`]);
    expect(state.memory).toContain(`<directory name="${name}">\n<instructions>Read the guide first.</instructions>`);
    expect(state.memory).toContain(`name="${name}/guide.md"`);
    expect(state.memory).not.toContain(folder.name);
    expect(state.memory).not.toContain('Old description');
    const passages = await t.app.db.prisma.passage.findMany({ where: { fileId: file.id }, select: { fileName: true } });
    expect(passages.length).toBeGreaterThan(0);
    expect(passages.every((passage) => passage.fileName === `${name}/guide.md`)).toBe(true);
    // Omitted fields stay.
    expect((await t.ok(FdUpdate, { input: { id: folder.id, description: 'New' } })).updateFolder.folder).toMatchObject({ name, description: 'New', instructions: 'Read the guide first.' });

    const taken = await newFolder('taken');
    expect(codeOf(await t.request(FdUpdate, { input: { id: folder.id, name: taken.name } }))).toBe('CONFLICT');
    for (const bad of [{ name: null }, { name: '  ' }, { name: 'a/b' }, { instructions: 'x'.repeat(10_001) }]) {
      expect(codeOf(await t.request(FdUpdate, { input: { id: folder.id, ...bad } })), JSON.stringify(bad).slice(0, 40)).toBe('BAD_USER_INPUT');
    }
    expect(codeOf(await t.request(FdUpdate, { input: { id: 'source-00000000-0000-4000-8000-000000000000', name: 'x' } }))).toBe('NOT_FOUND');
    const other = await t.newOrganization();
    expect(codeOf(await t.request(FdUpdate, { input: { id: folder.id, name: 'stolen' } }, { token: other.token }))).toBe('NOT_FOUND');
    expect((await stateOf(agentId)).files).toEqual([`${name}/guide.md`]);
  });
});
