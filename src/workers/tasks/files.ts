import { chunkPages, chunkText, type Chunk, type PageChunk } from '../../agent/files/chunk.js';
import { FileParseError, decodeText, fileKindOf, parseFileText } from '../../agent/files/parse.js';
import { extractPdfPages } from '../../agent/files/pdf.js';
import { embedLocally } from '../../agent/embeddings/local.js';

/** File tasks of the worker threads: a file's text and chunks, and local embeddings. */

export interface PrepareFileInput {
  fileName: string;
  /** The text of a text file (or of a PDF that came from an agent file). */
  content: string | null;
  /** A PDF's bytes. */
  rawBytes: Uint8Array | null;
}

export type PrepareFileOutput =
  /** text: null when it is `content` unchanged (megabytes need not come back to the main thread). */
  | { ok: true; text: string | null; chunks: Array<Chunk | PageChunk> }
  /** A problem with the file itself, worded for the user. */
  | { ok: false; message: string };

export async function prepareFile(file: PrepareFileInput): Promise<PrepareFileOutput> {
  try {
    const kind = fileKindOf(file.fileName);
    if (!kind) throw new FileParseError(`Unsupported file type: ${file.fileName}`);
    if (kind.kind === 'pdf' && file.rawBytes) return { ok: true, ...chunkPages(await extractPdfPages(file.rawBytes, file.fileName)) };
    // A PDF without bytes came from an agent file, which carries the text extracted elsewhere.
    const text = parseFileText(kind.kind === 'pdf' ? 'text' : kind.kind, file.content ?? '', file.fileName);
    return { ok: true, text: text === file.content ? null : text, chunks: chunkText(text) };
  } catch (error) {
    if (error instanceof FileParseError) return { ok: false, message: error.message };
    throw error;
  }
}

/** An uploaded text file's bytes as text (decodeText), or null when they are not UTF-8 text. */
export function decodeUpload(input: { bytes: Uint8Array }): { text: string | null } {
  return { text: decodeText(input.bytes) ?? null };
}

export function embedLocalBatch(input: { texts: string[]; dimensions: number }): number[][] {
  return input.texts.map((text) => embedLocally(text, input.dimensions));
}
