import { performance } from 'node:perf_hooks';
import type { Prisma } from '../../generated/prisma/client.js';
import { FileParseError } from '../../agent/files/parse.js';
import { EmbeddingError } from '../../agent/embeddings/index.js';
import { EMBEDDING_BATCH_SIZE } from '../../agent/embeddings/sdk.js';
import { AppError, userErrorText } from '../../errors.js';
import { newId } from '../../ids.js';
import type { PrismaClient } from '../../db/client.js';
import type { EnsurePassageIndex } from '../../db/vector-index.js';
import { insertFilePassages } from '../../db/passage-rows.js';
import type { EmbedderRegistry } from '../../agent/embeddings/index.js';
import type { Logger } from '../../logger.js';
import type { EventBus } from '../../realtime/bus.js';
import type { WorkerPool } from '../../workers/pool.js';
import { publishFileUpdates } from '../platform/events.js';
import { addFileToAgents } from './file-views.js';

/**
 * Chunks embedded and written per batch: each batch is one short statement, so a large file
 * never needs one long transaction, and only one batch of vectors is in memory at a time.
 */
export const PASSAGE_BATCH_SIZE = EMBEDDING_BATCH_SIZE;

/** What processing a file needs from the application. */
export interface FileJobDeps {
  prisma: PrismaClient;
  bus: EventBus;
  embeddings: EmbedderRegistry;
  ensurePassageIndex: EnsurePassageIndex;
  logger: Logger;
  staleMs: number;
  /** Parsing, chunking and local embedding run here. */
  pool: WorkerPool;
  /** Passages per INSERT (the database's choice: Database.passageRowsPerStatement). */
  passageRowsPerStatement: number;
  /** Told how each file's processing ended (metrics). */
  observe?: (outcome: 'completed' | 'failed', seconds: number) => void;
}

class Aborted extends Error {}
/** The file was deleted while it was being processed. */
class Gone extends Error {}

/** What a user may read of a failure: a problem of the file or of its embedding provider, else a generic line (the log has the rest). */
function storedErrorText(error: unknown): string {
  if (error instanceof FileParseError || error instanceof EmbeddingError || error instanceof AppError) return userErrorText(error.message);
  return 'Processing failed because of an internal error; the server log has the details. Upload the file again to retry.';
}

/**
 * pending → parsing → embedding → completed | error. Parsing and chunking (and local embedding)
 * run in the worker pool. Passages are written batch by batch as they are embedded; the file
 * joins its agents' context only when the last batch is in, and a file that fails loses the
 * passages written so far. A file deleted meanwhile takes its passages with it.
 */
export async function processFile(deps: Pick<FileJobDeps, 'prisma' | 'bus' | 'embeddings' | 'ensurePassageIndex' | 'logger' | 'pool' | 'passageRowsPerStatement'>, fileId: string, signal: AbortSignal): Promise<void> {
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
  const started = performance.now();
  const took = { parseMs: 0, embedMs: 0, writeMs: 0 };
  const timed = async <T>(key: keyof typeof took, work: Promise<T>): Promise<T> => {
    const from = performance.now();
    try {
      return await work;
    } finally {
      took[key] += performance.now() - from;
    }
  };
  try {
    const prepared = await timed('parseMs', deps.pool.run('file.prepare', { fileName: file.fileName, content: file.content, rawBytes: file.rawBytes }, { signal }));
    if (!prepared.ok) throw new FileParseError(prepared.message);
    const { text, chunks } = prepared;
    if (signal.aborted) throw new Aborted();
    // The text comes back and is written only when parsing changed it (a PDF's, or a cleaned one):
    // writing megabytes again through Prisma costs the main thread tens of milliseconds (issue 13).
    await progress({ processingStatus: 'embedding', ...(text === null ? {} : { content: text }), totalChunks: chunks.length, chunksEmbedded: 0 });
    // Passages of an earlier attempt that stopped halfway.
    await prisma.passage.deleteMany({ where: { fileId } });

    const embedder = deps.embeddings.resolve(file.folder.embedding);
    let indexed = false;
    for (let start = 0; start < chunks.length; start += PASSAGE_BATCH_SIZE) {
      if (signal.aborted) throw new Aborted();
      const batch = chunks.slice(start, start + PASSAGE_BATCH_SIZE);
      const vectors = await timed('embedMs', embedder.embed(batch.map((chunk) => chunk.text), signal));
      if (signal.aborted) throw new Aborted();
      if (!indexed && vectors[0]) {
        await deps.ensurePassageIndex(vectors[0].length);
        indexed = true;
      }
      const rows = batch.map((chunk, offset) => ({
        id: newId('Passage'),
        text: chunk.text,
        metadata: { chunk_index: start + offset, start_line: chunk.startLine, ...('page' in chunk ? { page: chunk.page } : {}) },
        embedding: vectors[offset]!,
      }));
      await timed('writeMs', insertFilePassages(prisma, { organizationId: file.organizationId, fileId, folderId: file.folderId, fileName: visibleName, embeddingModel: embedder.handle }, rows, deps.passageRowsPerStatement));
      // Progress doubles as the liveness mark that keeps other instances from reclaiming the file.
      await progress({ chunksEmbedded: start + batch.length });
    }
    if (signal.aborted) throw new Aborted();

    const completed = await prisma.$transaction(async (tx) => {
      // Completing first locks the file's row: a deletion either came before (nothing is completed)
      // or waits for this commit and takes the passages with it.
      const completed = await tx.file.updateMany({
        where: { id: fileId, processingStatus: 'embedding' },
        data: { processingStatus: 'completed', chunksEmbedded: chunks.length, rawBytes: null },
      });
      if (completed.count === 0) return false;
      // In the same transaction: a file is never completed without being in its agents' context.
      await addFileToAgents(tx, fileId);
      return true;
    });
    if (completed) announce();
    const ms = (value: number) => Math.round(value);
    deps.logger.info({ fileId, chunks: chunks.length, totalMs: ms(performance.now() - started), parseMs: ms(took.parseMs), embedMs: ms(took.embedMs), writeMs: ms(took.writeMs) }, 'file processed');
  } catch (error) {
    // An interrupted file stays unfinished; the next start (or another instance) resumes it.
    if (error instanceof Aborted || error instanceof Gone || signal.aborted) return;
    // A batch written for a file deleted meanwhile fails on its foreign key: the file is gone.
    if ((await prisma.file.count({ where: { id: fileId } })) === 0) return;
    if (!(error instanceof FileParseError)) deps.logger.warn({ err: error, fileId }, 'file processing failed');
    await prisma.$transaction([
      prisma.passage.deleteMany({ where: { fileId } }),
      prisma.file.updateMany({ where: { id: fileId }, data: { processingStatus: 'error', errorMessage: storedErrorText(error), rawBytes: null } }),
    ]);
    announce();
  }
}
