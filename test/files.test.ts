import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { newId } from '../src/ids.js';
import { closeAll, freshDatabaseEnv, SERVICES_MODE, startTestServer, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { brokenSecondPagePdf, encryptedPdf, makePdf } from './helpers/pdf.js';
import { FileStatus, uploadFile, waitForFile } from './helpers/upload.js';
import type { ModelServer } from './model-server/server.js';

const NewFolder = graphql(`
  mutation NewFolder($input: CreateFolderInput!) { createFolder(input: $input) { folder { id name description embedding } } }
`);
const FolderFiles = graphql(`
  query FolderFiles($id: ID!) {
    folder(id: $id) { name files(first: 50) { edges { node { id fileName processingStatus } } } }
    folders(first: 100) { edges { node { id } } }
  }
`);

const codeOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => result.errors?.[0]?.extensions?.code;

const GUIDE = ['# Guide', '', 'Install with npm.', '', '## Usage', 'Run the server and open GraphiQL.', ...Array.from({ length: 60 }, (_, i) => `Line ${i}: the quick brown fox jumps over the lazy dog.`)].join('\n');

describe('folders and files', () => {
  let model: ModelServer;
  let t: TestServer;
  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel({ MAX_UPLOAD_BYTES: '60000', AUTH_MODE: 'disabled' }));
  });
  afterAll(() => closeAll(t, model));

  const newFolder = async (input: Record<string, unknown> = {}) =>
    (await t.ok(NewFolder, { input: { name: `docs-${Math.random().toString(36).slice(2, 8)}`, ...input } })).createFolder.folder;

  it('creates folders with unique names and refuses bad ones', async () => {
    const folder = await newFolder({ description: 'Product docs' });
    expect(folder).toMatchObject({ description: 'Product docs', embedding: null });
    const listed = await t.ok(FolderFiles, { id: folder.id });
    expect(listed.folders.edges.map((edge) => edge.node.id)).toContain(folder.id);
    expect(codeOf(await t.request(NewFolder, { input: { name: folder.name } }))).toBe('CONFLICT');
    expect(codeOf(await t.request(NewFolder, { input: { name: '  ' } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.request(NewFolder, { input: { name: 'a/b' } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.request(NewFolder, { input: { name: 'x1', embedding: 'nowhere/model' } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.request(FolderFiles, { id: 'source-00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
  });

  it('uploads a file over multipart, then parses, chunks and embeds it in the background', async () => {
    const folder = await newFolder();
    const upload = await uploadFile(t, folder.id, 'guide.md', GUIDE);
    expect(upload.errors).toBeUndefined();
    const stored = upload.data!.uploadFile.file;
    expect(stored).toMatchObject({ fileName: 'guide.md', fileType: 'text/markdown', fileSize: Buffer.byteLength(GUIDE) });
    expect(['PENDING', 'PARSING', 'EMBEDDING', 'COMPLETED']).toContain(stored.processingStatus);
    const done = await waitForFile(t, stored.id);
    expect(done).toMatchObject({ processingStatus: 'COMPLETED', errorMessage: null, content: GUIDE, folder: { id: folder.id } });
    expect(done.totalChunks).toBeGreaterThan(1);
    expect(done.chunksEmbedded).toBe(done.totalChunks);
    const passages = await t.app.db.prisma.passage.findMany({ where: { fileId: stored.id }, select: { fileName: true, embeddingDim: true } });
    expect(passages).toHaveLength(done.totalChunks!);
    expect(passages[0]).toEqual({ fileName: `${folder.name}/guide.md`, embeddingDim: 384 });
  });

  it("reads files' texts only when asked for, those of a page of files in one statement", async () => {
    const CONTENTS = `query Contents($id: ID!) { folder(id: $id) { files(first: 10) { edges { node { fileName content } } } } }`;
    const folder = await newFolder();
    const texts = ['first text', 'second text', 'third text', 'fourth text'];
    for (const [index, text] of texts.entries()) expect((await uploadFile(t, folder.id, `f${index}.txt`, text)).errors).toBeUndefined();
    await t.app.runtime.fileJobs.idle(); // their processing's statements are not counted below
    const listed = await t.request(CONTENTS, { id: folder.id });
    expect(listed.errors).toBeUndefined();
    expect((listed.data as { folder: { files: { edges: Array<{ node: { fileName: string; content: string } }> } } }).folder.files.edges.map((edge) => edge.node)).toEqual(
      texts.map((text, index) => ({ fileName: `f${index}.txt`, content: text })),
    );
    // As many statements for four files as for one: the texts load together. The fewest of three
    // tries, as the server's background work (heartbeats, queue polls) may add one to a try.
    const statements = async (first: number) => {
      let fewest = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < 3; attempt++) {
        const before = t.app.db.statementCount();
        const page = await t.request(`query($id: ID!, $n: Int) { folder(id: $id) { files(first: $n) { edges { node { content } } } } }`, { id: folder.id, n: first });
        expect(page.errors).toBeUndefined();
        fewest = Math.min(fewest, t.app.db.statementCount() - before);
      }
      return fewest;
    };
    expect(await statements(4)).toBe(await statements(1));
  });

  it('handles duplicate names: suffix (default), skip, error, replace', async () => {
    const folder = await newFolder();
    const first = (await uploadFile(t, folder.id, 'notes.txt', 'one')).data!.uploadFile.file;
    const second = (await uploadFile(t, folder.id, 'notes.txt', 'two')).data!.uploadFile.file;
    expect(second.fileName).toBe('notes_(1).txt');
    const third = (await uploadFile(t, folder.id, 'notes.txt', 'three', { duplicateHandling: 'SUFFIX' })).data!.uploadFile.file;
    expect(third.fileName).toBe('notes_(2).txt');
    const skipped = (await uploadFile(t, folder.id, 'notes.txt', 'four', { duplicateHandling: 'SKIP' })).data!.uploadFile;
    expect(skipped).toMatchObject({ skipped: true, file: { id: first.id } });
    const refused = await uploadFile(t, folder.id, 'notes.txt', 'five', { duplicateHandling: 'ERROR' });
    expect(codeOf(refused)).toBe('CONFLICT');
    const replaced = (await uploadFile(t, folder.id, 'notes.txt', 'six', { duplicateHandling: 'REPLACE' })).data!.uploadFile.file;
    expect(replaced.fileName).toBe('notes.txt');
    const renamed = (await uploadFile(t, folder.id, 'whatever.txt', 'seven', { name: '../../etc/readme.md' })).data!.uploadFile.file;
    expect(renamed.fileName).toBe('readme.md');
    const files = (await t.ok(FolderFiles, { id: folder.id })).folder!.files.edges.map((edge) => edge.node.fileName);
    expect(files.sort()).toEqual(['notes.txt', 'readme.md']);
    expect(codeOf(await t.request(FileStatus, { id: first.id }))).toBe('NOT_FOUND');
  });

  it('refuses an upload over the limit with PAYLOAD_TOO_LARGE and stores nothing', async () => {
    const folder = await newFolder();
    const over = await uploadFile(t, folder.id, 'big.txt', 'x'.repeat(60_001));
    expect(codeOf(over)).toBe('PAYLOAD_TOO_LARGE');
    const huge = await uploadFile(t, folder.id, 'huge.txt', 'x'.repeat(3 * 1024 * 1024));
    expect(huge.status).toBe(413);
    expect(codeOf(huge)).toBe('PAYLOAD_TOO_LARGE');
    expect((await t.ok(FolderFiles, { id: folder.id })).folder!.files.edges).toEqual([]);
    // The limit is the upload limit: a file just under it goes through.
    expect((await uploadFile(t, folder.id, 'fits.txt', 'y'.repeat(60_000))).errors).toBeUndefined();
  });

  it('refuses unsupported and binary files with a clear error, and bad targets', async () => {
    const folder = await newFolder();
    const exe = await uploadFile(t, folder.id, 'tool.exe', 'MZ');
    expect(codeOf(exe)).toBe('BAD_USER_INPUT');
    expect(exe.errors![0]!.message).toMatch(/Unsupported file type 'tool.exe'.*\bmd\b/);
    expect(exe.errors![0]!.extensions!.reason).toBe('UNSUPPORTED_MEDIA_TYPE');
    const binary = await uploadFile(t, folder.id, 'image.txt', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe]));
    expect(codeOf(binary)).toBe('BAD_USER_INPUT');
    expect(binary.errors![0]!.message).toContain('not UTF-8 text');
    expect((await t.ok(FolderFiles, { id: folder.id })).folder!.files.edges).toEqual([]);
    expect(codeOf(await uploadFile(t, 'source-00000000-0000-4000-8000-000000000000', 'a.txt', 'a'))).toBe('NOT_FOUND');
    expect(codeOf(await uploadFile(t, 'folder-1', 'a.txt', 'a'))).toBe('BAD_USER_INPUT');
    const other = await t.newOrganization();
    expect(codeOf(await uploadFile(t, folder.id, 'a.txt', 'a', { token: other.token }))).toBe('NOT_FOUND');
  });

  it('ends a file whose parse or embedding fails halfway in status ERROR with nothing searchable', async () => {
    const folder = await newFolder();
    const json = (await uploadFile(t, folder.id, 'data.json', '{"a": 1, "b": [1, 2,')).data!.uploadFile.file;
    const badJson = await waitForFile(t, json.id);
    expect(badJson.processingStatus).toBe('ERROR');
    expect(badJson.errorMessage).toMatch(/Invalid JSON in data.json/);

    const rows = Array.from({ length: 50 }, (_, i) => `${i},"row ${i}",ok`);
    rows[30] = '30,"an unterminated quote,ok';
    const csv = (await uploadFile(t, folder.id, 'table.csv', rows.join('\n'))).data!.uploadFile.file;
    const badCsv = await waitForFile(t, csv.id);
    expect(badCsv).toMatchObject({ processingStatus: 'ERROR' });
    expect(badCsv.errorMessage).toContain('line 31');

    // Embedding fails on the second batch of 32 chunks: the first batch must not stay searchable.
    const remote = await newFolder({ embedding: 'test/scripted-embedder' });
    const chunks = Array.from({ length: 40 }, (_, i) => `${i === 35 ? 'FAIL_EMBEDDING ' : ''}${'chunk '.repeat(190)}${i}`);
    const failing = (await uploadFile(t, remote.id, 'long.txt', chunks.join('\n'))).data!.uploadFile.file;
    const failed = await waitForFile(t, failing.id);
    expect(failed).toMatchObject({ processingStatus: 'ERROR', totalChunks: 40, chunksEmbedded: 32 });
    expect(failed.errorMessage).toContain("Embedding with 'test/scripted-embedder' failed");
    expect(model.embeddingRequests.length).toBeGreaterThanOrEqual(2);
    for (const id of [json.id, csv.id, failing.id]) expect(await t.app.db.prisma.passage.count({ where: { fileId: id } })).toBe(0);
  });

  it('extracts the text of a PDF page by page; no chunk spans two pages', async () => {
    const folder = await newFolder();
    const pageOne = Array.from({ length: 50 }, (_, i) => `Chapter one, line ${i}: the (quick) brown fox jumps over the lazy dog.`);
    const pdf = makePdf([pageOne, ['Chapter two starts here.', 'It ends the report.']]);
    const upload = (await uploadFile(t, folder.id, 'report.pdf', pdf)).data!.uploadFile.file;
    expect(upload).toMatchObject({ fileName: 'report.pdf', fileType: 'application/pdf', fileSize: pdf.length });
    const done = await waitForFile(t, upload.id);
    expect(done).toMatchObject({ processingStatus: 'COMPLETED', errorMessage: null });
    expect(done.content).toBe(`${pageOne.join('\n')}\n\nChapter two starts here.\nIt ends the report.`);
    const passages = await t.app.db.prisma.passage.findMany({ where: { fileId: upload.id }, select: { text: true, metadata: true } });
    expect(passages.length).toBe(done.totalChunks);
    expect(passages.length).toBeGreaterThan(2);
    const lastPage = passages.filter((passage) => (passage.metadata as { page: number }).page === 2);
    expect(lastPage).toEqual([{ text: 'Chapter two starts here.\nIt ends the report.', metadata: { chunk_index: passages.length - 1, start_line: 52, page: 2 } }]);
    expect(passages.every((passage) => !passage.text.includes('Chapter one') || !passage.text.includes('Chapter two'))).toBe(true);
    // The uploaded bytes are kept only until the text is extracted.
    expect((await t.app.db.prisma.file.findUniqueOrThrow({ where: { id: upload.id }, select: { rawBytes: true } })).rawBytes).toBeNull();
  });

  it('ends a corrupt, encrypted, half-readable or textless PDF in ERROR with a clear message and nothing searchable', async () => {
    const folder = await newFolder();
    const good = makePdf([['A page of text.']]);
    const cases = [
      { name: 'truncated.pdf', bytes: good.slice(0, Math.floor(good.length / 2)), message: /^truncated\.pdf is not a valid PDF \(Invalid PDF structure\.\); it may be truncated or corrupt$/ },
      { name: 'fake.pdf', bytes: new TextEncoder().encode('just some text, no PDF'), message: /^fake\.pdf is not a valid PDF/ },
      { name: 'locked.pdf', bytes: encryptedPdf(), message: /^locked\.pdf is encrypted with a password; upload an unencrypted copy$/ },
      { name: 'half.pdf', bytes: brokenSecondPagePdf(), message: /^Could not read page 2 \(of 2\) of half\.pdf: / },
      { name: 'scan.pdf', bytes: makePdf([[], []]), message: /^scan\.pdf has no extractable text \(scanned pages need OCR/ },
    ];
    for (const { name, bytes, message } of cases) {
      const upload = await uploadFile(t, folder.id, name, bytes);
      expect(upload.errors).toBeUndefined();
      const done = await waitForFile(t, upload.data!.uploadFile.file.id);
      expect(done.processingStatus, name).toBe('ERROR');
      expect(done.errorMessage, name).toMatch(message);
      expect(done.content, name).toBeNull();
      expect(await t.app.db.prisma.passage.count({ where: { fileId: done.id } })).toBe(0);
      expect((await t.app.db.prisma.file.findUniqueOrThrow({ where: { id: done.id }, select: { rawBytes: true } })).rawBytes).toBeNull();
    }
    const big = makePdf(Array.from({ length: 40 }, () => Array.from({ length: 40 }, (_, i) => `filler line ${i} to pass the upload limit`)));
    expect(big.length).toBeGreaterThan(60_000);
    expect(codeOf(await uploadFile(t, folder.id, 'big.pdf', big))).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('file processing across a restart', () => {
  it('picks up a file left unfinished by a dead process', async () => {
    const dataDir = SERVICES_MODE ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-files-'));
    const env = SERVICES_MODE ? freshDatabaseEnv() : { DATA_DIR: dataDir! };
    const first = await startTestServer({ ...env, FILE_PROCESSING_STALE_MS: '1000' }, { dropOnClose: false });
    const folder = (await first.ok(NewFolder, { input: { name: 'restart' } })).createFolder.folder;
    const orgId = (await first.app.db.prisma.folder.findUniqueOrThrow({ where: { id: folder.id } })).organizationId;
    // A file as a killed process leaves it: half-way through, its last progress long ago.
    const fileId = newId('File');
    await first.app.db.prisma.file.create({
      data: { id: fileId, organizationId: orgId, folderId: folder.id, fileName: 'left.md', originalFileName: 'left.md', content: GUIDE, processingStatus: 'embedding', totalChunks: 3, chunksEmbedded: 1 },
    });
    await first.app.db.prisma.$executeRaw`UPDATE "File" SET "updatedAt" = now() - interval '1 hour' WHERE id = ${fileId}`;
    await first.close();

    const second = await startTestServer({ ...env, FILE_PROCESSING_STALE_MS: '1000' });
    try {
      const done = await waitForFile(second, fileId);
      expect(done.processingStatus).toBe('COMPLETED');
      expect(done.chunksEmbedded).toBe(done.totalChunks);
      expect(await second.app.db.prisma.passage.count({ where: { fileId } })).toBe(done.totalChunks);
    } finally {
      await second.close();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
