import { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient } from './client.js';

/** One chunk of a file as a passage row. */
export interface FilePassageRow {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
  embedding: number[];
}

/** The file the passages come from. */
export interface PassageSource {
  organizationId: string;
  fileId: string;
  folderId: string;
  fileName: string;
  embeddingModel: string;
}

/**
 * Inserts a batch of a file's passages, `rowsPerStatement` rows a statement (each statement takes
 * the database connection on its own: other work goes in between). Raw SQL on purpose: Prisma's
 * `createMany` spends about 10 ms of main-thread time per 384-float vector checking and encoding
 * it (measured: 400–1000 ms per batch of 32 under load), where a vector written as one array
 * literal costs a `join`. Each vector travels as text and is cast to real[] by the database.
 */
export async function insertFilePassages(
  prisma: Pick<PrismaClient, '$executeRaw'>,
  file: PassageSource,
  rows: readonly FilePassageRow[],
  rowsPerStatement = rows.length,
): Promise<void> {
  const step = Math.max(1, rowsPerStatement);
  for (let start = 0; start < rows.length; start += step) await insertRows(prisma, file, rows.slice(start, start + step));
}

async function insertRows(prisma: Pick<PrismaClient, '$executeRaw'>, file: PassageSource, rows: readonly FilePassageRow[]): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((row) => row.id);
  const texts = rows.map((row) => row.text);
  const metadata = rows.map((row) => JSON.stringify(row.metadata));
  const vectors = rows.map((row) => `{${row.embedding.join(',')}}`);
  const dims = rows.map((row) => row.embedding.length);
  await prisma.$executeRaw(Prisma.sql`
    INSERT INTO "Passage" (id, "organizationId", "fileId", "folderId", "fileName", text, metadata, embedding, "embeddingDim", "embeddingModel", "updatedAt")
    SELECT r.id, ${file.organizationId}, ${file.fileId}, ${file.folderId}, ${file.fileName}, r.text, r.metadata::jsonb, r.embedding::real[], r.dim, ${file.embeddingModel}, now()
    FROM unnest(${ids}::text[], ${texts}::text[], ${metadata}::text[], ${vectors}::text[], ${dims}::int[]) AS r(id, text, metadata, embedding, dim)`);
}
