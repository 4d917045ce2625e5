import { truncateFileVisibleContent } from '../memory.js';

/**
 * What an open file shows the agent (Letta's FileAgent.visible_content): a header line, then the
 * requested lines numbered as in the file ("12: text"), cut at the per-file window.
 */

export interface ViewRange {
  /** 1-based first line shown. */
  startLine: number;
  /** 1-based line after the last one shown (exclusive), as Letta stores end_line. */
  endLine: number;
  totalLines: number;
}

export function fileLines(content: string): string[] {
  const lines = content.split('\n');
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines;
}

/** offset is 0-based, length a count; both optional (whole file). Out-of-range values are clamped. */
export function viewRange(totalLines: number, offset?: number | null, length?: number | null): ViewRange {
  const start = Math.min(Math.max(0, offset ?? 0), Math.max(0, totalLines - 1));
  const end = length == null ? totalLines : Math.min(totalLines, start + Math.max(1, length));
  return { startLine: start + 1, endLine: end + 1, totalLines };
}

export function isWholeFile(range: ViewRange): boolean {
  return range.startLine === 1 && range.endLine === range.totalLines + 1;
}

export function renderView(content: string, range: ViewRange, charLimit: number): string {
  const lines = fileLines(content);
  const header = isWholeFile(range)
    ? `[Viewing file start (out of ${range.totalLines} lines)]`
    : `[Viewing lines ${range.startLine} to ${range.endLine - 1} (out of ${range.totalLines} lines)]`;
  const body = lines.slice(range.startLine - 1, range.endLine - 1).map((line, index) => `${range.startLine + index}: ${line}`);
  return truncateFileVisibleContent([header, ...body].join('\n'), true, charLimit);
}

/** Letta's defaults keyed on the model's context window: (max files open, per-file chars). */
export function defaultFileLimits(contextWindow: number | null | undefined): { maxFilesOpen: number; perFileChars: number } {
  if (!contextWindow) return { maxFilesOpen: 5, perFileChars: 50_000 };
  if (contextWindow <= 8_000) return { maxFilesOpen: 3, perFileChars: 5_000 };
  if (contextWindow <= 32_000) return { maxFilesOpen: 5, perFileChars: 15_000 };
  if (contextWindow <= 128_000) return { maxFilesOpen: 10, perFileChars: 25_000 };
  if (contextWindow <= 200_000) return { maxFilesOpen: 10, perFileChars: 40_000 };
  return { maxFilesOpen: 15, perFileChars: 40_000 };
}
