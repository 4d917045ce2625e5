import fs from 'node:fs';
import http from 'node:http';
import { print, type DocumentNode } from 'graphql';
import type { GraphQLResult, TestServer } from './server.js';

/** Every .af file of letta-ai/agent-file (test/fixtures/agent-files/README.md). */
export const FIXTURE_FILES = [
  'co-3.af',
  'customer_service.af',
  'deep_research_agent.af',
  'evie.af',
  'ezra.af',
  'lettabot-builder.af',
  'lettabot.af',
  'loop.af',
  'memgpt_agent.af',
  'memgpt_agent_with_convo.af',
  'outreach_workflow_agent.af',
  'void.af',
];

export function fixtureText(name: string): string {
  return fs.readFileSync(new URL(`../fixtures/agent-files/${name}`, import.meta.url), 'utf8');
}

/** The document inside a fixture, unwrapped when Letta double-encoded it as a JSON string. */
export function fixtureJson(name: string): any {
  let value: unknown = JSON.parse(fixtureText(name));
  if (typeof value === 'string') value = JSON.parse(value);
  return value;
}

/**
 * Sends one operation as a GraphQL multipart request with `file` bound to `variables.file`, on a
 * fresh connection: a pooled keep-alive socket can be closed by the server's idle timeout just as
 * a slow-to-build upload starts, which the client reports as ECONNRESET.
 */
export async function uploadRequest<T>(
  t: TestServer,
  document: DocumentNode,
  file: Blob | string,
  variables: Record<string, unknown> = {},
  options: { token?: string; fileName?: string } = {},
): Promise<GraphQLResult<T>> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: print(document), variables: { ...variables, file: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', typeof file === 'string' ? new Blob([file], { type: 'application/json' }) : file, options.fileName ?? 'agent.af');
  const encoded = new Response(form);
  const body = Buffer.from(await encoded.arrayBuffer());
  const headers: Record<string, string | number> = { 'content-type': encoded.headers.get('content-type')!, 'content-length': body.length, 'x-graphql-yoga-csrf': '1' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const request = http.request(t.url, { method: 'POST', agent: false, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        try {
          resolve({ ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as GraphQLResult<T>), status: response.statusCode ?? 0 });
        } catch (error) {
          reject(error);
        }
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}
