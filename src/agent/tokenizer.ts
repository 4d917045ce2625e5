import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * Token counting with OpenAI's BPE encodings (gpt-tokenizer ships their ranks, so nothing is
 * downloaded). o200k_base is exact for the GPT-4o / GPT-4.1 / GPT-5 / o-series families and
 * cl100k_base for GPT-4 and GPT-3.5. Other families (Claude, Gemini, open models) publish no
 * offline tokenizer; they are counted with o200k_base and reported as an approximation — the
 * same choice Letta makes when it has no provider count API at hand.
 */
export type EncodingName = 'o200k_base' | 'cl100k_base';

export interface Tokenizer {
  encoding: EncodingName;
  /** False when the model's own tokenizer is not available and o200k_base stands in. */
  exact: boolean;
  count(text: string): number;
}

const O200K = /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|gpt-oss|o\d)/i;
const CL100K = /^(gpt-4|gpt-3\.5|text-embedding-(ada|3))/i;

const count = (encoding: EncodingName) => (text: string) => {
  if (!text) return 0;
  // Special-token text in user content is counted as ordinary text, as a provider would.
  return encoding === 'o200k_base' ? countO200k(text, { allowedSpecial: 'all' }) : countCl100k(text, { allowedSpecial: 'all' });
};

/** The tokenizer for a model handle `provider/model` (or a bare model name). */
export function tokenizerFor(handle: string | null | undefined): Tokenizer {
  const name = (handle ?? '').slice((handle ?? '').indexOf('/') + 1);
  if (O200K.test(name)) return { encoding: 'o200k_base', exact: true, count: count('o200k_base') };
  if (CL100K.test(name)) return { encoding: 'cl100k_base', exact: true, count: count('cl100k_base') };
  return { encoding: 'o200k_base', exact: false, count: count('o200k_base') };
}
