import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * JSON.stringify's text of a large value, made in slices with the event loop free between them.
 * One JSON.stringify of a result of several megabytes (an agent export with thousands of
 * messages and a file's text) holds the main thread for tens of milliseconds, and encoding the
 * text to bytes as long again; here both happen a bounded piece at a time. Subtrees below
 * `SMALL_CHARS` and primitives go to JSON.stringify itself, so the text is the same byte for byte;
 * only plain objects and arrays are walked (anything else, e.g. a Date, is stringified whole).
 */

/** Subtrees smaller than this (by estimate) are stringified in one call. */
const SMALL_CHARS = 32 * 1024;
/** A string longer than this is escaped a piece at a time. */
const STRING_PIECE_CHARS = 512 * 1024;
/** Bytes handed on at a time. */
const CHUNK_CHARS = 256 * 1024;

/** Whether the JSON text of `value` would be at least `limit` characters (an estimate that stops early). */
export function estimateAtLeast(value: unknown, limit: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') size += item.length + 2;
    else if (item === null || typeof item !== 'object') size += 5;
    else if (Array.isArray(item)) {
      size += item.length + 2;
      for (const element of item) stack.push(element);
    } else if (isPlainObject(item)) {
      for (const key in item) {
        size += key.length + 4;
        stack.push((item as Record<string, unknown>)[key]);
      }
    } else size += 32;
    if (size >= limit) return true;
  }
  return false;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

type ToJson = { toJSON: (key: string) => unknown };

/** What JSON.stringify writes for a property `key` holding `value`: its toJSON(key) if it has one. */
function resolved(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && typeof (value as Partial<ToJson>).toJSON === 'function' ? (value as ToJson).toJSON(key) : value;
}

/** Values JSON.stringify leaves out of an object (and writes as null in an array). */
const omitted = (value: unknown) => value === undefined || typeof value === 'function' || typeof value === 'symbol';

/** The pieces of the JSON text of `value`, whose toJSON (if any) has been applied. */
function* pieces(value: unknown): Generator<string> {
  if (typeof value === 'string' && value.length > STRING_PIECE_CHARS) {
    yield '"';
    for (let start = 0; start < value.length; ) {
      let end = Math.min(start + STRING_PIECE_CHARS, value.length);
      // Never between the two halves of a surrogate pair: each half alone would be escaped.
      const last = value.charCodeAt(end - 1);
      if (end < value.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
      yield JSON.stringify(value.slice(start, end)).slice(1, -1);
      start = end;
    }
    yield '"';
    return;
  }
  const walk = typeof value === 'object' && value !== null && (Array.isArray(value) || isPlainObject(value)) && estimateAtLeast(value, SMALL_CHARS);
  if (!walk) {
    yield JSON.stringify(value);
    return;
  }
  if (Array.isArray(value)) {
    yield '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) yield ',';
      const element = resolved(value[index], String(index));
      if (omitted(element)) yield 'null';
      else yield* pieces(element);
    }
    yield ']';
    return;
  }
  yield '{';
  let first = true;
  for (const [name, property] of Object.entries(value as Record<string, unknown>)) {
    const element = resolved(property, name);
    if (omitted(element)) continue;
    yield `${first ? '' : ','}${JSON.stringify(name)}:`;
    first = false;
    yield* pieces(element);
  }
  yield '}';
}

/**
 * The UTF-8 bytes of JSON.stringify(value), in chunks; after about `sliceMs` of work it waits
 * for the next turn of the event loop before going on.
 */
export async function* jsonChunks(value: unknown, sliceMs = 5): AsyncGenerator<Buffer> {
  let parts: string[] = [];
  let size = 0;
  let sliceStart = performance.now();
  for (const piece of pieces(resolved(value, ''))) {
    parts.push(piece);
    size += piece.length;
    if (size < CHUNK_CHARS && performance.now() - sliceStart < sliceMs) continue;
    yield Buffer.from(parts.join(''), 'utf8');
    parts = [];
    size = 0;
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
  if (size > 0) yield Buffer.from(parts.join(''), 'utf8');
}
