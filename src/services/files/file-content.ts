import type { Db } from '../platform/scope.js';

/**
 * A file's text, read a piece at a time. Decoding a multi-megabyte text from one row (and, inside
 * a relation join, parsing it out of a JSON aggregate) held the event loop for 25-55 ms per file
 * during agent-file export; a piece of 1 Mi characters costs a few milliseconds.
 */
export const CONTENT_PIECE_CHARS = 1 << 20;

interface Piece {
  piece: string | null;
  length: number | null;
  updatedAt: Date;
}

const CHANGED = Symbol('changed while read');

/** One file's text, or null when it has none (or the organization has no such file). */
export async function readFileContent(db: Db, organizationId: string, fileId: string): Promise<string | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const text = await readInPieces(db, organizationId, fileId);
    if (text !== CHANGED) return text;
  }
  // Re-processed again and again while read: one statement gives a consistent text.
  const row = await db.file.findFirst({ where: { id: fileId, organizationId }, select: { content: true } });
  return row?.content ?? null;
}

async function readInPieces(db: Db, organizationId: string, fileId: string): Promise<string | null | typeof CHANGED> {
  const first = await pieceAt(db, organizationId, fileId, 1);
  if (!first || first.piece === null || first.length === null) return null;
  const pieces = [first.piece];
  for (let start = 1 + CONTENT_PIECE_CHARS; start <= first.length; start += CONTENT_PIECE_CHARS) {
    const next = await pieceAt(db, organizationId, fileId, start);
    // Re-processed between two pieces: the pieces would splice two texts.
    if (!next || next.updatedAt.getTime() !== first.updatedAt.getTime()) return CHANGED;
    pieces.push(next.piece ?? '');
  }
  return pieces.join('');
}

async function pieceAt(db: Db, organizationId: string, fileId: string, start: number): Promise<Piece | undefined> {
  const [row] = await db.$queryRaw<Piece[]>`
    SELECT substr(content, ${start}::int, ${CONTENT_PIECE_CHARS}::int) AS piece, char_length(content) AS length, "updatedAt"
    FROM "File" WHERE id = ${fileId} AND "organizationId" = ${organizationId}`;
  return row;
}
