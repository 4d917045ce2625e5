import { RE2JS } from 're2js';
import { fileLines } from './view.js';
import { ToolExecutionError } from '../../errors.js';

/**
 * grep_files as Letta shapes it: case-insensitive regex, include filter, context lines, pages of 20.
 * The model writes the patterns, so they run on RE2 (re2js): linear in the text whatever the
 * pattern, so `^(a+)+$` cannot backtrack for ever. RE2 has no backreferences or lookaround; such a
 * pattern is refused with a tool error that says so. Callers run this in a worker thread with a
 * deadline (services/files/file-tools.ts), since a scan of large files still takes time.
 */

export const GREP_PAGE_SIZE = 20;
export const GREP_MAX_MATCHES = 1000;
export const GREP_MAX_PATTERN = 1000;
export const GREP_MAX_CONTEXT = 20;

export interface GrepFile {
  name: string;
  content: string;
}

export interface GrepArgs {
  pattern: string;
  include?: string | null;
  contextLines?: number | null;
  offset?: number | null;
}

export interface GrepOutcome {
  text: string;
  /** Files with at least one match (they count as accessed). */
  matchedFiles: string[];
}

interface Matcher {
  test(text: string): boolean;
}

function compile(pattern: string, what: string): Matcher {
  try {
    return RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ToolExecutionError(`Invalid ${what}: ${reason} (patterns use RE2 syntax: no backreferences or lookaround)`);
  }
}

/** A glob (when it has '*' or '?') matched against the whole name or its last segment; otherwise a regex. */
export function includeMatcher(include: string): (name: string) => boolean {
  if (/[*?]/.test(include)) {
    const source = include.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    const glob = compile(`^${source}$`, `include pattern '${include}'`);
    return (name) => glob.test(name) || glob.test(name.split('/').pop() ?? name);
  }
  const regex = compile(include, `include pattern '${include}'`);
  return (name) => regex.test(name);
}

export function grepFiles(files: readonly GrepFile[], args: GrepArgs): GrepOutcome {
  const pattern = args.pattern ?? '';
  if (!pattern.trim()) throw new ToolExecutionError('Error: pattern must not be empty');
  if (pattern.length > GREP_MAX_PATTERN) throw new ToolExecutionError(`Error: pattern is longer than ${GREP_MAX_PATTERN} characters`);
  const regex = compile(pattern, `regex pattern '${pattern}'`);
  const contextLines = Math.min(Math.max(0, args.contextLines ?? 1), GREP_MAX_CONTEXT);
  const offset = Math.max(0, args.offset ?? 0);
  const keep = args.include ? includeMatcher(args.include) : () => true;

  const matches: Array<{ file: string; line: number; lines: string[] }> = [];
  const perFile = new Map<string, number>();
  let truncated = false;
  outer: for (const file of files) {
    if (!keep(file.name)) continue;
    const lines = fileLines(file.content);
    for (let i = 0; i < lines.length; i++) {
      if (!regex.test(lines[i]!)) continue;
      if (matches.length >= GREP_MAX_MATCHES) {
        truncated = true;
        break outer;
      }
      matches.push({ file: file.name, line: i + 1, lines });
      perFile.set(file.name, (perFile.get(file.name) ?? 0) + 1);
    }
  }
  const scope = args.include ? ` in files matching '${args.include}'` : '';
  if (matches.length === 0) return { text: `No matches found for pattern: '${pattern}'${scope}`, matchedFiles: [] };
  if (offset >= matches.length) {
    return { text: `No more matches: offset ${offset} is past the last of ${matches.length} matches for pattern '${pattern}'${scope}`, matchedFiles: [] };
  }
  const page = matches.slice(offset, offset + GREP_PAGE_SIZE);
  const rule = '='.repeat(80);
  const out = [
    `Found ${matches.length}${truncated ? '+' : ''} total matches across ${perFile.size} files (showing matches ${offset + 1}-${offset + page.length} of ${matches.length})`,
    rule,
    'Files with matches:',
    ...[...perFile].map(([name, count]) => `  - ${name}: ${count} match${count === 1 ? '' : 'es'}`),
    rule,
    '',
  ];
  for (const match of page) {
    out.push(`=== ${match.file}:${match.line} ===`);
    const from = Math.max(1, match.line - contextLines);
    const to = Math.min(match.lines.length, match.line + contextLines);
    for (let n = from; n <= to; n++) out.push(`${n === match.line ? '>' : ' '} ${n}: ${match.lines[n - 1]}`);
    out.push('');
  }
  if (offset + page.length < matches.length) {
    const includeArg = args.include ? `, include=${JSON.stringify(args.include)}` : '';
    out.push(`To see more matches, call: grep_files(pattern=${JSON.stringify(pattern)}${includeArg}, offset=${offset + page.length})`);
  }
  return { text: out.join('\n').trimEnd(), matchedFiles: [...perFile.keys()] };
}
