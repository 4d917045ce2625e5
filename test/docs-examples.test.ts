import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LoneAnonymousOperationRule, parse, specifiedRules, validate } from 'graphql';
import { schema } from '../src/schema/index.js';
import { GRAPHIQL_DEFAULT_QUERY } from '../src/server.js';

/**
 * Every GraphQL example a reader can copy (the ```graphql blocks and curl queries of README.md and
 * docs/, and the GraphiQL tour) parses and validates against the schema, so the docs cannot drift from it.
 */

const root = new URL('../', import.meta.url);
const pages = ['README.md', ...fs.readdirSync(new URL('docs/', root)).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** The ```graphql blocks of a page, and the queries of its curl examples (`"query":"…"` in JSON). */
function examples(page: string): Array<[string, string]> {
  const text = fs.readFileSync(new URL(page, root), 'utf8');
  const where = (index: number | undefined) => `${page}:${text.slice(0, index).split('\n').length}`;
  return [
    ...[...text.matchAll(/^```graphql\n([\s\S]*?)^```/gm)].map((match): [string, string] => [where(match.index), match[1]!]),
    ...[...text.matchAll(/"query":"((?:[^"\\]|\\.)*)"/g)].map((match): [string, string] => [where(match.index), JSON.parse(`"${match[1]!}"`) as string]),
  ];
}

// A block may hold several operations side by side (a mutation, then the query that reads it back).
const rules = specifiedRules.filter((rule) => rule !== LoneAnonymousOperationRule);

function problems(source: string): string[] {
  try {
    return validate(schema, parse(source), rules).map((error) => error.message);
  } catch (error) {
    return [String(error)];
  }
}

describe('documentation examples', () => {
  const blocks = pages.flatMap(examples);

  it('has examples to check', () => {
    expect(blocks.length).toBeGreaterThan(15);
  });

  it.each(blocks)('%s is valid against the schema', (_where, source) => {
    expect(problems(source)).toEqual([]);
  });

  it('the GraphiQL default document is valid against the schema', () => {
    expect(problems(GRAPHIQL_DEFAULT_QUERY)).toEqual([]);
  });
});
