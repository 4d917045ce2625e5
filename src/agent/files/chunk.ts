/**
 * Splits file text into passages for embedding: whole lines packed up to a size (about Letta's
 * 300-token embedding chunk), a longer line cut at the size. Each chunk remembers its first line.
 */

export const CHUNK_MAX_CHARS = 1200;

export interface Chunk {
  text: string;
  /** 1-based line of the file where the chunk starts. */
  startLine: number;
}

export function chunkText(text: string, maxChars = CHUNK_MAX_CHARS): Chunk[] {
  const chunks: Chunk[] = [];
  let current: string[] = [];
  let size = 0;
  let start = 1;
  const flush = () => {
    const joined = current.join('\n');
    if (joined.trim()) chunks.push({ text: joined, startLine: start });
    current = [];
    size = 0;
  };
  text.split('\n').forEach((line, index) => {
    if (line.length > maxChars) {
      flush();
      for (let offset = 0; offset < line.length; offset += maxChars) chunks.push({ text: line.slice(offset, offset + maxChars), startLine: index + 1 });
      start = index + 2;
      return;
    }
    if (size + line.length + 1 > maxChars && current.length > 0) {
      flush();
      start = index + 1;
    }
    if (current.length === 0) start = index + 1;
    current.push(line);
    size += line.length + 1;
  });
  flush();
  return chunks.filter((chunk) => chunk.text.trim().length > 0);
}

export interface PageChunk extends Chunk {
  /** 1-based page the chunk comes from. */
  page: number;
}

/** Pages joined by a blank line into one text, chunked page by page so that no chunk spans two pages. */
export function chunkPages(pages: string[], maxChars = CHUNK_MAX_CHARS): { text: string; chunks: PageChunk[] } {
  const chunks: PageChunk[] = [];
  let firstLine = 1;
  pages.forEach((page, index) => {
    for (const chunk of chunkText(page, maxChars)) chunks.push({ ...chunk, startLine: chunk.startLine + firstLine - 1, page: index + 1 });
    firstLine += page.split('\n').length + 1;
  });
  return { text: pages.join('\n\n'), chunks };
}
