import { graphql } from '../../src/generated/gql/index.js';
import type { GraphQLResult, TestServer } from './server.js';

const UPLOAD = `mutation Upload($folderId: ID!, $file: Upload!, $duplicateHandling: DuplicateHandling, $name: String) {
  uploadFile(input: { folderId: $folderId, file: $file, duplicateHandling: $duplicateHandling, name: $name }) {
    skipped
    file { id fileName originalFileName fileType fileSize processingStatus errorMessage }
  }
}`;

export interface UploadedFileResult {
  uploadFile: {
    skipped: boolean;
    file: { id: string; fileName: string; originalFileName: string; fileType: string | null; fileSize: number | null; processingStatus: string; errorMessage: string | null };
  };
}

/** Sends uploadFile as a GraphQL multipart request (the spec curl and Apollo clients use). */
export async function uploadFile(
  t: TestServer,
  folderId: string,
  fileName: string,
  content: string | Uint8Array,
  options: { duplicateHandling?: string; name?: string; token?: string } = {},
): Promise<GraphQLResult<UploadedFileResult>> {
  const form = new FormData();
  const variables = { folderId, file: null, duplicateHandling: options.duplicateHandling, name: options.name };
  form.append('operations', JSON.stringify({ query: UPLOAD, variables }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([content as BlobPart]), fileName);
  const response = await fetch(t.url, { method: 'POST', body: form, headers: { 'x-graphql-yoga-csrf': '1', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) } });
  const body = (await response.json()) as GraphQLResult<UploadedFileResult>;
  return { ...body, status: response.status };
}

export const FileStatus = graphql(`
  query FileStatus($id: ID!) {
    file(id: $id) { id fileName processingStatus errorMessage totalChunks chunksEmbedded content fileType folder { id } }
  }
`);

/** The file once its processing has ended (COMPLETED or ERROR). */
export async function waitForFile(t: TestServer, id: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { file } = await t.ok(FileStatus, { id });
    if (file && (file.processingStatus === 'COMPLETED' || file.processingStatus === 'ERROR')) return file;
    if (Date.now() > deadline) throw new Error(`file ${id} still ${file?.processingStatus}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
