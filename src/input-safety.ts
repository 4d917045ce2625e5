import { badInput } from './errors.js';

/**
 * Checks of untrusted structured input that the schema's types cannot express: JSON nested deeper
 * than any real document (recursive code further on would overflow the stack), and strings that
 * are not well-formed UTF-16 (a lone surrogate cannot be stored as UTF-8 text or jsonb). The walk
 * is iterative, so the check itself cannot overflow.
 */

export const MAX_JSON_DEPTH = 64;

export interface InputProblem {
  path: string;
  message: string;
}

/** With the u flag a surrogate pair is one code point: only unpaired surrogates match. */
const LONE_SURROGATE = /\p{Cs}/u;

export const isWellFormed = (text: string) => !LONE_SURROGATE.test(text);

function stringProblem(text: string): string | undefined {
  if (!isWellFormed(text)) return 'text contains a lone surrogate (an unpaired \\ud800-\\udfff), which is not valid Unicode';
  return undefined;
}

/** The first problem of a JSON-like value, or undefined. */
export function findInputProblem(value: unknown, root: string, maxDepth = MAX_JSON_DEPTH): InputProblem | undefined {
  const stack: Array<[unknown, string, number]> = [[value, root, 0]];
  while (stack.length > 0) {
    const [current, path, depth] = stack.pop()!;
    if (typeof current === 'string') {
      const message = stringProblem(current);
      if (message) return { path, message };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return { path, message: `nested more than ${maxDepth} levels deep` };
    if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push([item, `${path}.${index}`, depth + 1]));
      continue;
    }
    if (isPlainObject(current)) {
      for (const [key, item] of Object.entries(current)) {
        const message = stringProblem(key);
        if (message) return { path: `${path}.${key}`, message: `key: ${message}` };
        stack.push([item, `${path}.${key}`, depth + 1]);
      }
    }
  }
  return undefined;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Throws BAD_USER_INPUT naming the path of the first problem. */
export function assertSafeInput(value: unknown, root: string, maxDepth = MAX_JSON_DEPTH): void {
  const problem = findInputProblem(value, root, maxDepth);
  if (problem) throw badInput(problem.path, problem.message);
}
