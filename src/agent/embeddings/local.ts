import type { Embedder } from './types.js';
import { normalize } from './types.js';

/**
 * The default embedder: feature hashing of words, word pairs and character trigrams into a
 * fixed number of signed buckets, L2-normalised. No network and no model download, so search
 * works out of the box; texts sharing words or word fragments land close together.
 */

export const LOCAL_PROVIDER = 'local';
export const LOCAL_MODEL_PREFIX = 'hashed-ngram';
export const LOCAL_DEFAULT_DIMENSIONS = 384;
export const LOCAL_MIN_DIMENSIONS = 16;
export const LOCAL_MAX_DIMENSIONS = 4096;

const WORD_WEIGHT = 1;
const PAIR_WEIGHT = 0.5;
const TRIGRAM_WEIGHT = 0.25;

/** 32-bit FNV-1a over UTF-16 code units, with a seed so that features of different kinds do not collide on purpose. */
function fnv1a(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function addFeature(vector: Float64Array, feature: string, seed: number, weight: number) {
  const hash = fnv1a(feature, seed);
  const bucket = hash % vector.length;
  // One bit of another hash picks the sign, so that collisions cancel out on average.
  const sign = fnv1a(feature, seed + 7919) & 1 ? 1 : -1;
  vector[bucket]! += sign * weight;
}

export function words(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

export function embedLocally(text: string, dimensions: number): number[] {
  const vector = new Float64Array(dimensions);
  const tokens = words(text);
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i]!;
    addFeature(vector, word, 1, WORD_WEIGHT);
    if (i + 1 < tokens.length) addFeature(vector, `${word} ${tokens[i + 1]}`, 2, PAIR_WEIGHT);
    const padded = `<${word}>`;
    for (let j = 0; j + 3 <= padded.length; j++) addFeature(vector, padded.slice(j, j + 3), 3, TRIGRAM_WEIGHT);
  }
  // Sublinear term frequency: a word repeated many times should not drown the others.
  const damped = Array.from(vector, (value) => Math.sign(value) * Math.log1p(Math.abs(value)));
  return normalize(damped);
}

/** 'hashed-ngram' → 384 dimensions; 'hashed-ngram-768' → 768. Undefined when the name is not ours. */
export function localDimensions(modelName: string): number | undefined {
  if (modelName === LOCAL_MODEL_PREFIX) return LOCAL_DEFAULT_DIMENSIONS;
  const match = new RegExp(`^${LOCAL_MODEL_PREFIX}-(\\d+)$`).exec(modelName);
  if (!match) return undefined;
  const dimensions = Number(match[1]);
  return dimensions >= LOCAL_MIN_DIMENSIONS && dimensions <= LOCAL_MAX_DIMENSIONS ? dimensions : undefined;
}

/** Embeds a batch off the main thread (the worker pool); the app provides it. */
export type LocalBatchEmbedder = (texts: string[], dimensions: number, signal?: AbortSignal) => Promise<number[][]>;

/** Texts up to this many characters in all are embedded in place: a worker's round trip would cost more. */
export const LOCAL_INLINE_MAX_CHARS = 16_000;

export function createLocalEmbedder(handle: string, dimensions: number, offThread?: LocalBatchEmbedder): Embedder {
  return {
    handle,
    dimensions,
    embed: async (texts, signal) => {
      const size = texts.reduce((sum, text) => sum + text.length, 0);
      if (offThread && size > LOCAL_INLINE_MAX_CHARS) return offThread(texts, dimensions, signal);
      return texts.map((text) => embedLocally(text, dimensions));
    },
  };
}
