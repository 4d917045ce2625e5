import { describe, expect, it } from 'vitest';
import { createEmbedderRegistry, DEFAULT_EMBEDDING_HANDLE } from '../../src/agent/embeddings/index.js';
import { providerEntry } from '../../src/config-providers.js';
import { embedLocally, localDimensions } from '../../src/agent/embeddings/local.js';

const dot = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

describe('local hashed n-gram embeddings', () => {
  it('are deterministic unit vectors of the requested length', () => {
    const a = embedLocally('The quick brown fox', 384);
    expect(a).toHaveLength(384);
    expect(dot(a, a)).toBeCloseTo(1, 10);
    expect(embedLocally('The quick brown fox', 384)).toEqual(a);
    expect(embedLocally('   ', 384).every((value) => value === 0)).toBe(true);
  });

  it('put texts that share words and word fragments closer than unrelated ones', () => {
    const query = embedLocally('my cat chases mice', 384);
    const related = embedLocally('The cat chased the mice in the garden', 384);
    const unrelated = embedLocally('quarterly budget planning meeting', 384);
    expect(dot(query, related)).toBeGreaterThan(dot(query, unrelated) + 0.1);
  });

  it('resolve handles: the local default, sized variants, configured providers; anything else is refused', () => {
    const registry = createEmbedderRegistry([
      providerEntry({ name: 'remote', baseUrl: 'http://127.0.0.1:9/v1' }),
      providerEntry({ kind: 'anthropic', apiKey: 'x' }),
      providerEntry({ kind: 'ollama', models: [{ name: 'nomic-embed-text', embedding: true, dimensions: 768 }] }),
      providerEntry({ kind: 'google_ai', apiKey: 'x' }),
    ]);
    expect(registry.resolve(null).handle).toBe(DEFAULT_EMBEDDING_HANDLE);
    expect(registry.resolve('local/hashed-ngram-64').dimensions).toBe(64);
    expect(registry.resolve('remote/text-embedding-3-small').handle).toBe('remote/text-embedding-3-small');
    expect(localDimensions('hashed-ngram-8')).toBeUndefined();
    expect(registry.resolve('ollama/nomic-embed-text').dimensions).toBe(768);
    expect(registry.resolve('google_ai/gemini-embedding-001').handle).toBe('google_ai/gemini-embedding-001');
    // Anthropic has no embeddings.
    for (const handle of ['local/other', 'openai/text-embedding-3-small', 'anthropic/claude', 'nonsense']) {
      expect(() => registry.resolve(handle)).toThrow(/names no configured provider/);
    }
  });
});
