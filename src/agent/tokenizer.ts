
/**
 * Token counting with OpenAI's BPE encodings (gpt-tokenizer ships their ranks, so nothing is
 * downloaded). o200k_base is exact for the GPT-4o / GPT-4.1 / GPT-5 / o-series families and
 * cl100k_base for GPT-4 and GPT-3.5. Other families (Claude, Gemini, open models) publish no
 * offline tokenizer; they are counted with o200k_base and reported as an approximation — the
 * same choice Letta makes when it has no provider count API at hand. Where the provider has a
 * count endpoint (Anthropic, Gemini: llm/token-count.ts), its exact total replaces the estimate.
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

type Counter = (text: string) => number;

// The rank tables are megabytes of JavaScript: loaded on first use, not at server start.
const counters = new Map<EncodingName, Promise<Counter>>();
function counterFor(encoding: EncodingName): Promise<Counter> {
  let counter = counters.get(encoding);
  if (!counter) {
    const module = encoding === 'o200k_base' ? import('gpt-tokenizer/encoding/o200k_base') : import('gpt-tokenizer/encoding/cl100k_base');
    // Special-token text in user content is counted as ordinary text, as a provider would.
    counter = module.then(({ countTokens }) => (text: string) => (text ? countTokens(text, { allowedSpecial: 'all' }) : 0));
    counters.set(encoding, counter);
  }
  return counter;
}

/** The tokenizer for a model handle `provider/model` (or a bare model name). */
export async function tokenizerFor(handle: string | null | undefined): Promise<Tokenizer> {
  const name = (handle ?? '').slice((handle ?? '').indexOf('/') + 1);
  const encoding: EncodingName = CL100K.test(name) && !O200K.test(name) ? 'cl100k_base' : 'o200k_base';
  const exact = O200K.test(name) || CL100K.test(name);
  return { encoding, exact, count: await counterFor(encoding) };
}
