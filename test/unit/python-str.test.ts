import { describe, expect, it } from 'vitest';
import { pyRepr, pyStr } from '../../src/agent/python-str.js';

// Expected values printed by CPython 3.11 (`repr(s)`, `str(d)`). The first group are the
// characters on which the server's former repr copies disagreed: Python escapes every character
// that `str.isprintable()` rejects (categories C* and Z* except the space), not only ASCII controls.
const PYTHON_REPR: Array<[string, string]> = [
  ['nbsp\u00a0here', "'nbsp\\xa0here'"],
  ['soft\u00adhyphen', "'soft\\xadhyphen'"],
  ['next\u0085line', "'next\\x85line'"],
  ['c1\u009f', "'c1\\x9f'"],
  ['zw\u200bspace', "'zw\\u200bspace'"],
  ['ls\u2028ps\u2029', "'ls\\u2028ps\\u2029'"],
  ['ideo\u3000space', "'ideo\\u3000space'"],
  ['pua\ue000', "'pua\\ue000'"],
  ['unassigned\u0378', "'unassigned\\u0378'"],
  ['astral\u{f0000}', "'astral\\U000f0000'"],
  ['lone\ud800', "'lone\\ud800'"],
  // the cases both agreed on
  ['del\u007f', "'del\\x7f'"],
  ['bell\u0007', "'bell\\x07'"],
  ['a\tb\n\r\\', "'a\\tb\\n\\r\\\\'"],
  ['kept é 日本 😀 ₂', "'kept é 日本 😀 ₂'"],
  ["it's", `"it's"`],
  [`it's "both"`, `'it\\'s "both"'`],
];

describe('Python repr and str', () => {
  it.each(PYTHON_REPR)('repr(%j) is what CPython prints', (input, expected) => {
    expect(pyRepr(input)).toBe(expected);
  });

  it('str() of containers uses repr for keys and items', () => {
    expect(pyStr({ 'k\u00a0': ['a\u200b', null, true, 1.5] })).toBe("{'k\\xa0': ['a\\u200b', None, True, 1.5]}");
    expect(pyRepr(['x', false])).toBe("['x', False]");
    expect(pyStr('plain\u00a0text')).toBe('plain\u00a0text');
  });
});
