/**
 * Python's `str` semantics (repr, str(), expandtabs, splitlines, count, replace) for texts that
 * must match Letta's byte for byte.
 */

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Characters that `str.isprintable()` rejects: Other (C*) and separators (Z*); space is printable. */
const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

/** Python's `repr()` of a str. */
function pyReprString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\\') out += '\\\\';
    else if (char === quote) out += `\\${quote}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char !== ' ' && NON_PRINTABLE.test(char)) {
      if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
      else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
      else out += `\\U${code.toString(16).padStart(8, '0')}`;
    } else out += char;
  }
  return out + quote;
}

/** Python's `repr()` of a JSON value (`'a'`, `None`, `[1, 'b']`, `{'k': True}`). */
export function pyRepr(value: unknown): string {
  if (typeof value === 'string') return pyReprString(value);
  return pyStr(value);
}

/**
 * Python's `str()` of a JSON value, which is what Letta shows for a non-string `message` in a
 * packaged tool response (e.g. `{'a': 1}`).
 */
export function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (isPlainObject(value)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyReprString(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

/** Python's type name of a JSON value, for TypeError texts. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/** Python's str.expandtabs() (tab size 8; columns count code points and restart at \n and \r). */
export function expandTabs(text: string, tabSize = 8): string {
  if (!text.includes('\t')) return text;
  let out = '';
  let column = 0;
  for (const char of text) {
    if (char === '\t') {
      if (tabSize > 0) {
        const spaces = tabSize - (column % tabSize);
        out += ' '.repeat(spaces);
        column += spaces;
      }
    } else {
      out += char;
      column = char === '\n' || char === '\r' ? 0 : column + 1;
    }
  }
  return out;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Python's str.count (non-overlapping; an empty needle counts len + 1). */
export function pyCount(haystack: string, needle: string): number {
  if (needle === '') return codePoints(haystack) + 1;
  return haystack.split(needle).length - 1;
}

/** Python's str.replace (all occurrences; an empty needle inserts between code points). */
export function pyReplaceAll(haystack: string, needle: string, replacement: string): string {
  if (needle === '') return replacement + [...haystack].map((char) => char + replacement).join('');
  return haystack.split(needle).join(replacement);
}

/** Python's str.splitlines(). */
export function pySplitLines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
