/**
 * Which uploads are accepted and how their text is checked before chunking: plain text,
 * Markdown, source code, JSON and CSV arrive as UTF-8 text; PDF arrives as bytes whose text
 * is extracted in the background (pdf.ts).
 */

export type FileKind = 'text' | 'markdown' | 'code' | 'json' | 'csv' | 'pdf';

const KINDS: Record<string, { kind: FileKind; mime: string }> = {
  txt: { kind: 'text', mime: 'text/plain' },
  text: { kind: 'text', mime: 'text/plain' },
  log: { kind: 'text', mime: 'text/plain' },
  md: { kind: 'markdown', mime: 'text/markdown' },
  markdown: { kind: 'markdown', mime: 'text/markdown' },
  mdx: { kind: 'markdown', mime: 'text/markdown' },
  rst: { kind: 'text', mime: 'text/x-rst' },
  json: { kind: 'json', mime: 'application/json' },
  jsonl: { kind: 'text', mime: 'application/jsonl' },
  csv: { kind: 'csv', mime: 'text/csv' },
  tsv: { kind: 'csv', mime: 'text/tab-separated-values' },
  pdf: { kind: 'pdf', mime: 'application/pdf' },
};

const CODE_EXTENSIONS =
  'py js mjs cjs ts tsx jsx java kt kts scala go rs c h cc cpp cxx hpp cs rb php swift m r lua pl sh bash zsh sql yaml yml toml ini cfg conf html htm css scss less xml graphql gql proto dockerfile makefile vue svelte ex exs erl hs clj dart';
for (const ext of CODE_EXTENSIONS.split(' ')) KINDS[ext] = { kind: 'code', mime: 'text/plain' };

export const SUPPORTED_EXTENSIONS = Object.keys(KINDS).sort();

export function extensionOf(fileName: string): string {
  const base = fileName.split('/').pop() ?? fileName;
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return base.toLowerCase() === 'dockerfile' || base.toLowerCase() === 'makefile' ? base.toLowerCase() : '';
  return base.slice(dot + 1).toLowerCase();
}

export function fileKindOf(fileName: string): { kind: FileKind; mime: string } | undefined {
  return KINDS[extensionOf(fileName)];
}

export class FileParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileParseError';
  }
}

/** UTF-8 text, or undefined for binary content (invalid UTF-8 or NUL bytes). A BOM is dropped. */
export function decodeText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  if (text.includes('\u0000')) return undefined;
  return text.replace(/^\uFEFF/, '');
}

/** Checks the text of a kind and normalises line endings; throws FileParseError naming where it failed. */
export function parseFileText(kind: FileKind, raw: string, fileName: string): string {
  const text = raw.replace(/\r\n?/g, '\n');
  if (kind === 'json') {
    try {
      JSON.parse(text);
    } catch (error) {
      throw new FileParseError(`Invalid JSON in ${fileName}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (kind === 'csv') checkCsv(text, fileName, extensionOf(fileName) === 'tsv' ? '\t' : ',');
  return text;
}

/** RFC 4180 quoting: a quote opened must close, and a closing quote is followed by a separator or a line end. */
function checkCsv(text: string, fileName: string, separator: string) {
  let line = 1;
  let quoted = false;
  let quoteLine = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') i++;
        else {
          quoted = false;
          const next = text[i + 1];
          if (next !== undefined && next !== separator && next !== '\n') {
            throw new FileParseError(`CSV parse error in ${fileName} at line ${line}: unexpected character after the closing quote of a field opened at line ${quoteLine}`);
          }
        }
      } else if (char === '\n') line++;
    } else if (char === '"') {
      const previous = text[i - 1];
      if (previous !== undefined && previous !== separator && previous !== '\n') {
        throw new FileParseError(`CSV parse error in ${fileName} at line ${line}: a quote inside an unquoted field`);
      }
      quoted = true;
      quoteLine = line;
    } else if (char === '\n') line++;
  }
  if (quoted) throw new FileParseError(`CSV parse error in ${fileName} at line ${quoteLine}: unterminated quoted field`);
}
