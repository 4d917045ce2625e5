import { describe, expect, it } from 'vitest';
import { grepFiles } from '../../src/agent/files/grep.js';
import { userErrorText } from '../../src/errors.js';
import { ToolExecutionError } from '../../src/errors.js';

/** The guards of issue 13 that need no server (test/isolation.test.ts covers them through the API). */
describe('grep_files patterns run on RE2', () => {
  it('answers ^(a+)+$ over a long line at once (a backtracking engine would not finish)', () => {
    const outcome = grepFiles([{ name: 'f/aaa.txt', content: `${'a'.repeat(50_000)}!\n${'a'.repeat(30)}` }], { pattern: '^(a+)+$' });
    expect(outcome.text).toContain('Found 1 total matches');
    expect(outcome.text).toContain('f/aaa.txt:2');
  });

  it('refuses backreferences and lookaround with a tool error that names RE2', () => {
    for (const pattern of ['(a)\\1', '(?<=a)b', '(?!x)y']) {
      expect(() => grepFiles([{ name: 'f/a.txt', content: 'aa' }], { pattern })).toThrow(ToolExecutionError);
      expect(() => grepFiles([{ name: 'f/a.txt', content: 'aa' }], { pattern })).toThrow(/RE2 syntax/);
    }
  });
});

describe('stored error text', () => {
  it('keeps the first line and drops source paths', () => {
    const text = userErrorText('Invalid `prisma.file.create()` invocation in\n/work/app/src/services/files/files.ts:84:18\n\n  83 | code');
    expect(text).toBe('Invalid `prisma.file.create()` invocation in');
    expect(userErrorText("Embedding failed: boom at /srv/provider/src/embed.ts:12:7")).toBe('Embedding failed: boom');
    expect(userErrorText('Invalid JSON in data.json: Unexpected token } in JSON at position 5')).toBe('Invalid JSON in data.json: Unexpected token } in JSON at position 5');
  });
});
