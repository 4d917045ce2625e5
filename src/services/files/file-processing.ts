import type { Prisma } from '../../generated/prisma/client.js';
import { chunkPages, chunkText, type Chunk, type PageChunk } from '../../agent/files/chunk.js';
import { FileParseError, fileKindOf, parseFileText } from '../../agent/files/parse.js';
import { extractPdfPages } from '../../agent/files/pdf.js';
import { EMBEDDING_BATCH_SIZE } from '../../agent/embeddings/sdk.js';
import { newId } from '../../ids.js';
import type { PrismaClient } from '../../db/client.js';
import type { EnsurePassageIndex } from '../../db/vector-index.js';
import type { EmbedderRegistry } from '../../agent/embeddings/index.js';
import type { Logger } from '../../logger.js';
import type { EventBus } from '../../realtime/bus.js';
import { publishFileUpdates } from '../platform/events.js';
import { addFileToAgents } from './file-views.js';

/** What processing a file needs from the application. */
export interface FileJobDeps {
  prisma: PrismaClient;
  bus: EventBus;
  embeddings: EmbedderRegistry;
  ensurePassageIndex: EnsurePassageIndex;
  logger: Logger;
  staleMs: number;
  /** Told how each file's processing ended (metrics). */
  observe?: (outcome: 'completed' | 'failed', seconds: number) => void;
}

class Aborted extends Error {}
/** The file was deleted while it was being processed. */
class Gone extends Error {}

/** The file's text and its chunks: a PDF's text is extracted from its bytes, page by page. */
async function textAndChunks(
  file: { fileName: string; content: string | null; rawBytes: Uint8Array | null },
  signal: AbortSignal,
): Promise<{ text: string; chunks: Array<Chunk | PageChunk> }> {
  const kind = fileKindOf(file.fileName);
  if (!kind) throw new FileParseError(`Unsupported file type: ${file.fileName}`);
  if (kind.kind === 'pdf' && file.rawBytes) return chunkPages(await extractPdfPages(file.rawBytes, file.fileName, signal));
  // A PDF without bytes came from an agent file, which carries the text extracted elsewhere.
  const text = parseFileText(kind.kind === 'pdf' ? 'text' : kind.kind, file.content ?? '', file.fileName);
  return { text, chunks: chunkText(text) };
}

/**
 * pending → parsing → embedding → completed | error. Passages are written in one transaction
 * only once every chunk is embedded, so a file that fails halfway leaves nothing searchable,
 * and a file deleted meanwhile gets nothing written for it.
 */
export async function processFile(deps: Pick<FileJobDeps, 'prisma' | 'bus' | 'embeddings' | 'ensurePassageIndex' | 'logger'>, fileId: string, signal: AbortSignal): Promise<void> {
  const { prisma } = deps;
  const claimed = await prisma.file.updateMany({ where: { id: fileId, processingStatus: 'pending' }, data: { processingStatus: 'parsing', errorMessage: null } });
  if (claimed.count === 0) return;
  const file = await prisma.file.findUnique({
    where: { id: fileId },
    include: { folder: { select: { name: true, embedding: true } } },
  });
  if (!file) return;
  const announce = () => publishFileUpdates(deps.bus, file.organizationId, [fileId]);
  announce();
  const visibleName = `${file.folder.name}/${file.fileName}`;
  const progress = async (data: Prisma.FileUpdateManyMutationInput) => {
    const { count } = await prisma.file.updateMany({ where: { id: fileId }, data });
    if (count === 0) throw new Gone();
    announce();
  };
  try {
    const { text, chunks } = await textAndChunks(file, signal);
    if (signal.aborted) throw new Aborted();
    await progress({ processingStatus: 'embedding', content: text, totalChunks: chunks.length, chunksEmbedded: 0 });

    const embedder = deps.embeddings.resolve(file.folder.embedding);
    const vectors: number[][] = [];
    for (let start = 0; start < chunks.length; start += EMBEDDING_BATCH_SIZE) {
      if (signal.aborted) throw new Aborted();
      const batch = chunks.slice(start, start + EMBEDDING_BATCH_SIZE);
      vectors.push(...(await embedder.embed(batch.map((chunk) => chunk.text), signal)));
      // Progress doubles as the liveness mark that keeps other instances from reclaiming the file.
      await progress({ chunksEmbedded: vectors.length });
    }
    if (signal.aborted) throw new Aborted();
    if (vectors[0]) await deps.ensurePassageIndex(vectors[0].length);

    const rows: Prisma.PassageCreateManyInput[] = chunks.map((chunk, index) => ({
      id: newId('Passage'),
      organizationId: file.organizationId,
      fileId,
      folderId: file.folderId,
      fileName: visibleName,
      text: chunk.text,
      metadata: { chunk_index: index, start_line: chunk.startLine, ...('page' in chunk ? { page: chunk.page } : {}) },
      embedding: vectors[index]!,
      embeddingDim: vectors[index]!.length,
      embeddingModel: embedder.handle,
    }));
    const completed = await prisma.$transaction(async (tx) => {
      // Completing first locks the file's row: a deletion either came before (nothing is written)
      // or waits for this commit and takes the passages with it.
      const completed = await tx.file.updateMany({
        where: { id: fileId, processingStatus: 'embedding' },
        data: { processingStatus: 'completed', chunksEmbedded: rows.length, rawBytes: null },
      });
      if (completed.count === 0) return false;
      await tx.passage.deleteMany({ where: { fileId } });
      if (rows.length) await tx.passage.createMany({ data: rows });
      // In the same transaction: a file is never completed without being in its agents' context.
      await addFileToAgents(tx, fileId);
      return true;
    });
    if (completed) announce();
  } catch (error) {
    // An interrupted file stays unfinished; the next start (or another instance) resumes it.
    if (error instanceof Aborted || error instanceof Gone || signal.aborted) return;
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof FileParseError)) deps.logger.warn({ err: error, fileId }, 'file processing failed');
    await prisma.$transaction([
      prisma.passage.deleteMany({ where: { fileId } }),
      prisma.file.updateMany({ where: { id: fileId }, data: { processingStatus: 'error', errorMessage: message.slice(0, 2000), rawBytes: null } }),
    ]);
    announce();
  }
}
