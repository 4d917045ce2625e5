/** One embedding model, as the runtime uses it: texts in, unit-length vectors out. */
export interface Embedder {
  /** The handle 'provider/model' it was resolved from. */
  readonly handle: string;
  /** The vector length, when known before the first call (the local embedder knows it). */
  readonly dimensions: number | null;
  /** One L2-normalised vector per text, in order. */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

export interface EmbedderRegistry {
  /** The handle used when an agent or folder names none. */
  readonly defaultHandle: string;
  /** The embedder of a handle; BAD_USER_INPUT when it names no configured provider. */
  resolve(handle: string | null | undefined): Embedder;
  /** Whether a configured provider serves embeddings. */
  serves(provider: string): boolean;
}

/** Scales a vector to unit length (a zero vector stays zero), so that cosine similarity is a dot product. */
export function normalize(vector: number[]): number[] {
  let sum = 0;
  for (const value of vector) sum += value * value;
  if (sum === 0) return vector.map(() => 0);
  const norm = Math.sqrt(sum);
  return vector.map((value) => value / norm);
}
