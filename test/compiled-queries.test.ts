import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, startTestServer, type TestServer } from './helpers/server.js';

/**
 * Queries run compiled by graphql-jit (src/transports/compiled-queries.ts). A compiled query is
 * kept per document, so a document that holds several operations (GraphiQL sends its whole
 * editor with the name of the one to run) must still run the operation each request names.
 */

describe('compiled queries', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => closeAll(t));

  const post = async (query: string, operationName?: string) => {
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, operationName }) });
    return (await response.json()) as unknown;
  };

  it('run the operation the request names, in a document with several', async () => {
    const document = 'query Agents { agents(first: 1) { totalCount } } query Name { __typename }';
    for (let round = 0; round < 2; round++) {
      expect(await post(document, 'Agents')).toEqual({ data: { agents: { totalCount: 0 } } });
      expect(await post(document, 'Name')).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('run a single-operation query with and without its name, after a request naming another', async () => {
    const document = 'query Only { __typename }';
    const wrong = (await post(document, 'Other')) as { errors?: Array<{ message: string }> };
    expect(wrong.errors?.[0]?.message).toMatch(/operation/);
    expect(await post(document)).toEqual({ data: { __typename: 'Query' } });
    expect(await post(document, 'Only')).toEqual({ data: { __typename: 'Query' } });
  });
});
