/**
 * A small local embedder for message search: feature hashing of word unigrams, word bigrams and
 * character trigrams into a fixed number of signed dimensions, L2-normalised, so cosine
 * similarity is a dot product. It needs no model and no network, and finds messages that share
 * words, word forms and fragments with the query even without an exact substring match.
 *
 * To be replaced by the shared embeddings interface of issue 6 (src/agent/embeddings/) once it
 * is merged; only embedMessageText and MESSAGE_EMBEDDING_DIM are used elsewhere.
 */
export const MESSAGE_EMBEDDING_DIM = 256;

/** FNV-1a, 32 bits. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A crude suffix stripper, so that "cats"/"cat" and "planted"/"plant" share a feature. */
function stem(word: string): string {
  for (const suffix of ['ing', 'ed', 'es', 's']) {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) return word.slice(0, -suffix.length);
  }
  return word;
}

export function embedMessageText(text: string): number[] {
  const vector = new Array<number>(MESSAGE_EMBEDDING_DIM).fill(0);
  const words = (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).map(stem);
  const add = (feature: string, weight: number) => {
    const h = hash(feature);
    vector[h % MESSAGE_EMBEDDING_DIM]! += (h & 0x80000000 ? -1 : 1) * weight;
  };
  words.forEach((word, index) => {
    add(`w:${word}`, 1);
    if (index > 0) add(`b:${words[index - 1]} ${word}`, 0.5);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`c:${padded.slice(i, i + 3)}`, 0.25);
  });
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm === 0 ? [] : vector.map((value) => value / norm);
}
