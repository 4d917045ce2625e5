import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { uploadFile, waitForFile } from './helpers/upload.js';
import type { ModelServer } from './model-server/server.js';

const ViewsFolder = graphql(`
  mutation ViewsFolder($input: CreateFolderInput!) { createFolder(input: $input) { folder { id name } } }
`);
const ViewsAgent = graphql(`
  mutation ViewsAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const Attach = graphql(`
  mutation FvAttach($agentId: ID!, $folderId: ID!) {
    attachFolder(input: { agentId: $agentId, folderId: $folderId }) { changed agent { folders { id } tools { name } } folder { id } }
  }
`);
const Detach = graphql(`
  mutation FvDetach($agentId: ID!, $folderId: ID!) {
    detachFolder(input: { agentId: $agentId, folderId: $folderId }) { changed agent { folders { id } tools { name } memory } }
  }
`);
const AgentFiles = graphql(`
  query FvAgentFiles($id: ID!, $isOpen: Boolean) {
    agent(id: $id) {
      memory
      files(first: 50, isOpen: $isOpen) { edges { node { id fileName isOpen visibleContent startLine endLine file { id } } } }
    }
  }
`);
const Open = graphql(`
  mutation FvOpen($agentId: ID!, $fileId: ID!, $offset: Int, $length: Int) {
    openFile(input: { agentId: $agentId, fileId: $fileId, offset: $offset, length: $length }) { closedFiles file { fileName isOpen visibleContent startLine endLine } }
  }
`);
const Close = graphql(`
  mutation FvClose($agentId: ID!, $fileId: ID!) { closeFile(input: { agentId: $agentId, fileId: $fileId }) { file { isOpen visibleContent } } }
`);
const CloseAll = graphql(`
  mutation FvCloseAll($agentId: ID!) { closeAllFiles(input: { agentId: $agentId }) { closedFiles } }
`);
const SendFiles = graphql(`
  mutation SendFiles($input: SendMessageInput!) {
    sendMessage(input: $input) { stopReason messages { __typename ... on ToolReturnMessage { toolReturn status } } }
  }
`);

const codeOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => result.errors?.[0]?.extensions?.code;
const FILE_TOOLS = ['open_files', 'grep_files', 'semantic_search_files'];

const GUIDE = ['# Guide', 'Install with npm and run the server.', ...Array.from({ length: 58 }, (_, i) => `Step ${i + 3}: the quick brown fox jumps.`)].join('\n');
const NOTES = 'Meeting notes\nThe budget was approved.\nNext review in March.';
const CODE = 'def handler(event):\n    # TODO: retry on timeout\n    return event\n';

describe('agent views of files', () => {
  let model: ModelServer;
  let t: TestServer;
  let folder: { id: string; name: string };
  const fileIds: Record<string, string> = {};

  const upload = async (folderId: string, name: string, content: string) => {
    const result = await uploadFile(t, folderId, name, content);
    const id = result.data!.uploadFile.file.id;
    expect((await waitForFile(t, id)).processingStatus).toBe('COMPLETED');
    return id;
  };
  const newAgent = async (input: Record<string, unknown> = {}) =>
    (await t.ok(ViewsAgent, { input: { model: 'test/scripted', maxFilesOpen: 2, ...input } })).createAgent.agent.id;
  const files = async (agentId: string, isOpen?: boolean) => (await t.ok(AgentFiles, { id: agentId, isOpen })).agent!.files.edges.map((edge) => edge.node);

  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({ AUTH_MODE: 'disabled' }));
    folder = (await t.ok(ViewsFolder, { input: { name: 'docs', description: 'Project docs', instructions: 'Read the guide first.' } })).createFolder.folder;
    fileIds.guide = await upload(folder.id, 'guide.md', GUIDE);
    fileIds.notes = await upload(folder.id, 'notes.txt', NOTES);
    fileIds.code = await upload(folder.id, 'handler.py', CODE);
  });
  afterAll(() => closeAll(t, model));

  it('attaching a folder brings its files into context, the newest open within the limit, with the file tools', async () => {
    const agentId = await newAgent();
    const attached = await t.ok(Attach, { agentId, folderId: folder.id });
    expect(attached.attachFolder.changed).toBe(true);
    expect(attached.attachFolder.agent.folders.map((f) => f.id)).toEqual([folder.id]);
    expect(attached.attachFolder.agent.tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(FILE_TOOLS));
    expect((await t.ok(Attach, { agentId, folderId: folder.id })).attachFolder.changed).toBe(false);

    const views = await files(agentId);
    expect(views.map((view) => [view.fileName, view.isOpen])).toEqual([
      ['docs/guide.md', false],
      ['docs/handler.py', true],
      ['docs/notes.txt', true],
    ]);
    const notes = views.find((view) => view.fileName === 'docs/notes.txt')!;
    expect(notes.visibleContent).toBe('[Viewing file start (out of 3 lines)]\n1: Meeting notes\n2: The budget was approved.\n3: Next review in March.');
    expect((await files(agentId, true)).map((view) => view.fileName)).toEqual(['docs/handler.py', 'docs/notes.txt']);

    const { memory } = (await t.ok(AgentFiles, { id: agentId })).agent!;
    expect(memory).toContain('<directories>\n<file_limits>\n- current_files_open=2\n- max_files_open=2\n</file_limits>\n<directory name="docs">');
    expect(memory).toContain('<description>Project docs</description>\n<instructions>Read the guide first.</instructions>');
    expect(memory).toContain('<file status="closed" name="docs/guide.md">');
    expect(memory).toContain('<file status="open" name="docs/notes.txt">');
    expect(memory).toContain('2: The budget was approved.');

    const detached = await t.ok(Detach, { agentId, folderId: folder.id });
    expect(detached.detachFolder).toMatchObject({ changed: true, agent: { folders: [] } });
    expect(detached.detachFolder.agent.tools.map((tool) => tool.name)).not.toEqual(expect.arrayContaining(['open_files']));
    expect(detached.detachFolder.agent.memory).not.toContain('<directories>');
    expect(await files(agentId)).toEqual([]);
    expect((await t.ok(Detach, { agentId, folderId: folder.id })).detachFolder.changed).toBe(false);
  });

  it('opens ranges with LRU closing, truncates to the per-file window, closes one or all', async () => {
    const agentId = await newAgent();
    await t.ok(Attach, { agentId, folderId: folder.id });
    const opened = (await t.ok(Open, { agentId, fileId: fileIds.guide!, offset: 2, length: 3 })).openFile;
    // Attaching opened the newest uploads (notes.txt, then handler.py): notes.txt is the least recently used.
    expect(opened.closedFiles).toEqual(['docs/notes.txt']);
    expect(opened.file).toMatchObject({ fileName: 'docs/guide.md', isOpen: true, startLine: 3, endLine: 6 });
    expect(opened.file.visibleContent).toBe('[Viewing lines 3 to 5 (out of 60 lines)]\n3: Step 3: the quick brown fox jumps.\n4: Step 4: the quick brown fox jumps.\n5: Step 5: the quick brown fox jumps.');
    expect((await files(agentId, true)).map((view) => view.fileName)).toEqual(['docs/guide.md', 'docs/handler.py']);

    const closed = (await t.ok(Close, { agentId, fileId: fileIds.code! })).closeFile.file;
    expect(closed).toEqual({ isOpen: false, visibleContent: null });
    expect((await t.ok(CloseAll, { agentId })).closeAllFiles.closedFiles).toEqual(['docs/guide.md']);
    expect(await files(agentId, true)).toEqual([]);

    const narrow = await newAgent({ perFileViewWindowCharLimit: 200 });
    await t.ok(Attach, { agentId: narrow, folderId: folder.id });
    const whole = (await t.ok(Open, { agentId: narrow, fileId: fileIds.guide! })).openFile.file.visibleContent!;
    expect(whole.startsWith('[Viewing file start (out of 60 lines)]\n1: # Guide')).toBe(true);
    expect(whole.length).toBe(200);
    expect(whole.endsWith('...[TRUNCATED]\n# NOTE: This block is truncated, use functions to view the full content.')).toBe(true);
  });

  it('refuses files that are not attached, and bad ranges', async () => {
    const agentId = await newAgent();
    const other = (await t.ok(ViewsFolder, { input: { name: 'private' } })).createFolder.folder;
    const secret = await upload(other.id, 'secret.txt', 'classified');
    await t.ok(Attach, { agentId, folderId: folder.id });
    const refused = await t.request(Open, { agentId, fileId: secret });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors![0]!.message).toContain('not attached');
    expect(codeOf(await t.request(Close, { agentId, fileId: secret }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.request(Open, { agentId, fileId: fileIds.guide!, offset: -1 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.request(Open, { agentId, fileId: 'file-1' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.request(Open, { agentId: 'agent-00000000-0000-4000-8000-000000000000', fileId: secret }))).toBe('NOT_FOUND');
    expect(codeOf(await t.request(Attach, { agentId, folderId: 'source-00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
  });

  it('a file uploaded into an attached folder joins the agent once processed', async () => {
    const agentId = await newAgent();
    const live = (await t.ok(ViewsFolder, { input: { name: 'live' } })).createFolder.folder;
    await t.ok(Attach, { agentId, folderId: live.id });
    expect(await files(agentId)).toEqual([]);
    await upload(live.id, 'later.md', 'Arrived later.');
    const views = await files(agentId);
    expect(views).toMatchObject([{ fileName: 'live/later.md', isOpen: true }]);
    expect((await t.ok(AgentFiles, { id: agentId })).agent!.memory).toContain('1: Arrived later.');
  });

  it('gives the agent open_files, grep_files and semantic_search_files', async () => {
    const agentId = await newAgent();
    await t.ok(Attach, { agentId, folderId: folder.id });
    model.enqueue(
      { toolCalls: [{ name: 'open_files', arguments: { file_requests: [{ file_name: 'docs/guide.md', offset: 0, length: 2 }] } }] },
      { toolCalls: [{ name: 'open_files', arguments: { file_requests: [{ file_name: 'docs/missing.md' }] } }] },
      { toolCalls: [{ name: 'open_files', arguments: { file_requests: [{ file_name: 'docs/guide.md' }, { file_name: 'docs/notes.txt' }, { file_name: 'docs/handler.py' }] } }] },
      { toolCalls: [{ name: 'grep_files', arguments: { pattern: 'QUICK brown' } }] },
      { toolCalls: [{ name: 'grep_files', arguments: { pattern: 'quick brown', offset: 40, context_lines: 0 } }] },
      { toolCalls: [{ name: 'grep_files', arguments: { pattern: 'todo|budget', include: '*.py' } }] },
      { toolCalls: [{ name: 'grep_files', arguments: { pattern: '(unclosed' } }] },
      { toolCalls: [{ name: 'semantic_search_files', arguments: { query: 'event handler: retry on timeout', limit: 2 } }] },
      { text: 'Done.' },
    );
    const { sendMessage } = await t.ok(SendFiles, { input: { agentId, input: 'look at the files' } });
    expect(sendMessage.stopReason).toBe('END_TURN');
    const returns = sendMessage.messages.filter((message) => message.__typename === 'ToolReturnMessage') as Array<{ toolReturn: string; status: string }>;
    expect(returns.map((ret) => ret.status)).toEqual(['SUCCESS', 'ERROR', 'ERROR', 'SUCCESS', 'SUCCESS', 'SUCCESS', 'ERROR', 'SUCCESS']);
    const [open, missing, tooMany, grep, grepPage3, grepPy, badRegex, semantic] = returns.map((ret) => ret.toolReturn) as string[] & { length: 8 };
    expect(open).toBe('* Opened docs/guide.md (lines 1-2)\nNote: Closed 1 least recently used file(s) due to open file limit (2): docs/notes.txt');
    expect(missing).toContain("File 'docs/missing.md' not found or not attached. Attached files: docs/guide.md, docs/handler.py, docs/notes.txt");
    expect(tooMany).toContain('Cannot open 3 files: exceeds configured maximum limit of 2 files');
    expect(grep).toMatch(/^Found 58 total matches across 1 files \(showing matches 1-20 of 58\)\n={80}\nFiles with matches:\n {2}- docs\/guide.md: 58 matches\n={80}\n/);
    expect(grep).toContain('=== docs/guide.md:3 ===\n  2: Install with npm and run the server.\n> 3: Step 3: the quick brown fox jumps.\n  4: Step 4');
    expect(grep).toContain('To see more matches, call: grep_files(pattern="QUICK brown", offset=20)');
    expect(grepPage3).toContain('(showing matches 41-58 of 58)');
    expect(grepPage3).toContain('=== docs/guide.md:43 ===\n> 43: Step 43');
    expect(grepPage3).not.toContain('To see more matches');
    expect(grepPy).toContain('docs/handler.py: 1 match');
    expect(grepPy).not.toContain('notes.txt');
    expect(badRegex).toContain("Invalid regex pattern '(unclosed'");
    expect(semantic).toMatch(/^=== docs\/handler.py \(passage #1\) \(score: 0\.\d{3}\) ===\ndef handler\(event\):\n {4}# TODO: retry on timeout/);
    expect(semantic!.match(/\(passage #\d\)/g)).toEqual(['(passage #1)', '(passage #2)']);

    // open_files changed the context: the next model request saw the opened range.
    const system = JSON.stringify((model.requests.at(-1)!.body as { messages: Array<{ content: unknown }> }).messages[0]!.content);
    expect(system).toContain('[Viewing lines 1 to 2 (out of 60 lines)]');
  });
});
