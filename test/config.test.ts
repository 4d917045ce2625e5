import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { providerEntries } from '../src/agent/llm/providers.js';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.js';

const example = fs.readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
const listed = new Map(
  [...example.matchAll(/^#?\s*([A-Z_]+)=(.*)$/gm)].map((match) => [match[1]!, match[2]!] as const),
);

describe('configuration', () => {
  it('.env.example lists every variable, and only those', () => {
    expect([...listed.keys()].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('the defaults in .env.example are the real defaults', () => {
    const defaults = loadConfig({});
    const uncommented = [...example.matchAll(/^([A-Z_]+)=(.*)$/gm)];
    expect(uncommented.length).toBeGreaterThan(5);
    for (const [, name, value] of uncommented) {
      const actual = defaults[name as keyof typeof defaults];
      expect(typeof actual === 'object' ? JSON.stringify(actual) : String(actual), name).toBe(value);
    }
  });

  it('a bad value fails with one line naming the variable', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ PORT: 'abc' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ AUTH_MODE: 'sometimes' }, 'AUTH_MODE'],
      [{ DATABASE_URL: 'mysql://localhost/x' }, 'DATABASE_URL'],
      [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ LLM_PROVIDERS: 'not json' }, 'LLM_PROVIDERS'],
      [{ LLM_PROVIDERS: '[{"name":"x"}]' }, 'LLM_PROVIDERS'],
      [{ LLM_PROVIDERS: '[{"kind":"nope"}]' }, 'LLM_PROVIDERS'],
      [{ LLM_PROVIDERS: '[{"kind":"bedrock"}]' }, 'LLM_PROVIDERS'],
      [{ LLM_PROVIDERS: '[{"kind":"azure","apiKey":"k"}]' }, 'LLM_PROVIDERS'],
      [{ LLM_PROVIDERS: '[{"kind":"openai-compatible","baseUrl":"http://x/v1"}]' }, 'LLM_PROVIDERS'],
      [{ LLM_PROVIDERS: '[{"kind":"groq","name":"has space"}]' }, 'LLM_PROVIDERS'],
      [{ LLM_MAX_RETRIES: '11' }, 'LLM_MAX_RETRIES'],
      [{ DEFAULT_MODEL: 'gpt-4o' }, 'DEFAULT_MODEL'],
      [{ RUN_WORKERS: '-1' }, 'RUN_WORKERS'],
      [{ RUN_WORKERS: '0' }, 'RUN_WORKERS'],
    ];
    for (const [env, name] of cases) {
      expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${name}[.:][^\\n]+$`));
    }
  });

  it('provider entries get their kind’s name and base URL; the key shortcuts come first and LLM_PROVIDERS wins a name', () => {
    const config = loadConfig({
      OPENAI_API_KEY: 'sk-1',
      GEMINI_API_KEY: 'g',
      LLM_PROVIDERS: JSON.stringify([{ kind: 'groq', apiKey: 'k' }, { kind: 'openai', baseUrl: 'http://proxy/v1', apiKey: 'sk-2' }, { name: 'lm', baseUrl: 'http://127.0.0.1:1234/v1' }]),
    });
    const entries = providerEntries(config);
    expect(entries.map((entry) => [entry.name, entry.kind, entry.baseUrl, entry.apiKey])).toEqual([
      ['google_ai', 'google_ai', 'https://generativelanguage.googleapis.com/v1beta', 'g'],
      ['groq', 'groq', 'https://api.groq.com/openai/v1', 'k'],
      ['openai', 'openai', 'http://proxy/v1', 'sk-2'],
      ['lm', 'openai-compatible', 'http://127.0.0.1:1234/v1', undefined],
    ]);
  });

  it('empty optional URLs mean unset', () => {
    expect(loadConfig({ DATABASE_URL: '', REDIS_URL: '' })).toMatchObject({ DATABASE_URL: undefined, REDIS_URL: undefined });
  });
});
