import type { Prisma } from '../generated/prisma/client.js';
import { chunkText } from '../agent/files/chunk.js';
import { FileParseError, fileKindOf, parseFileText } from '../agent/files/parse.js';
import { EMBEDDING_BATCH_SIZE } from '../agent/embeddings/openai-compatible.js';
import { newId } from '../ids.js';
import type { FileJobDeps } from './file-jobs.js';
import { addFileToAgents } from './file-views.js';

class Aborted extends Error {}

/**
 * pending → parsing → embedding → completed | error. Passages are written in one transaction
 * only once every chunk is embedded, so a file that fails halfway leaves nothing searchable.
 * Returns true when the file completed.
 */
export async function processFile(deps: Pick<FileJobDeps, 'prisma' | 'embeddings' | 'ensurePassageIndex' | 'logger'>, fileId: string, signal: AbortSignal): Promise<boolean> {
  const { prisma } = deps;
  const claimed = await prisma.file.updateMany({ where: { id: fileId, processingStatus: 'pending' }, data: { processingStatus: 'parsing', errorMessage: null } });
  if (claimed.count === 0) return false;
  const file = await prisma.file.findUniqueOrThrow({
    where: { id: fileId },
    include: { folder: { select: { name: true, embedding: true } } },
  });
  const visibleName = `${file.folder.name}/${file.fileName}`;
  try {
    const kind = fileKindOf(file.fileName);
    if (!kind) throw new FileParseError(`Unsupported file type: ${file.fileName}`);
    const text = parseFileText(kind.kind, file.content ?? '', file.fileName);
    const chunks = chunkText(text);
    if (signal.aborted) throw new Aborted();
    await prisma.file.update({ where: { id: fileId }, data: { processingStatus: 'embedding', content: text, totalChunks: chunks.length, chunksEmbedded: 0 } });

    const embedder = deps.embeddings.resolve(file.folder.embedding);
    const vectors: number[][] = [];
    for (let start = 0; start < chunks.length; start += EMBEDDING_BATCH_SIZE) {
      if (signal.aborted) throw new Aborted();
      const batch = chunks.slice(start, start + EMBEDDING_BATCH_SIZE);
      vectors.push(...(await embedder.embed(batch.map((chunk) => chunk.text), signal)));
      // Progress doubles as the liveness mark that keeps other instances from reclaiming the file.
      await prisma.file.update({ where: { id: fileId }, data: { chunksEmbedded: vectors.length } });
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
      metadata: { chunk_index: index, start_line: chunk.startLine },
      embedding: vectors[index]!,
      embeddingDim: vectors[index]!.length,
      embeddingModel: embedder.handle,
    }));
    const done = await prisma.$transaction(async (tx) => {
      const current = await tx.file.findUnique({ where: { id: fileId }, select: { processingStatus: true } });
      if (current?.processingStatus !== 'embedding') return false;
      await tx.passage.deleteMany({ where: { fileId } });
      if (rows.length) await tx.passage.createMany({ data: rows });
      await tx.file.update({ where: { id: fileId }, data: { processingStatus: 'completed', chunksEmbedded: rows.length } });
      // In the same transaction: a file is never completed without being in its agents' context.
      await addFileToAgents(tx, fileId);
      return true;
    });
    return done;
  } catch (error) {
    // An interrupted file stays unfinished; the next start (or another instance) resumes it.
    if (error instanceof Aborted || signal.aborted) return false;
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof FileParseError)) deps.logger.warn({ err: error, fileId }, 'file processing failed');
    await prisma.$transaction([
      prisma.passage.deleteMany({ where: { fileId } }),
      prisma.file.updateMany({ where: { id: fileId }, data: { processingStatus: 'error', errorMessage: message.slice(0, 2000) } }),
    ]);
    return false;
  }
}
