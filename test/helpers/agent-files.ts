import fs from 'node:fs';
import { print, type DocumentNode } from 'graphql';
import type { GraphQLResult, TestServer } from './server.js';

export const FIXTURE_FILES = ['customer_service.af', 'deep_research_agent.af', 'evie.af', 'memgpt_agent.af', 'void.af'];

export function fixtureText(name: string): string {
  return fs.readFileSync(new URL(`../fixtures/agent-files/${name}`, import.meta.url), 'utf8');
}

/** The document inside a fixture, unwrapped when Letta double-encoded it as a JSON string. */
export function fixtureJson(name: string): any {
  let value: unknown = JSON.parse(fixtureText(name));
  if (typeof value === 'string') value = JSON.parse(value);
  return value;
}

/** Sends one operation as a GraphQL multipart request with `file` bound to `variables.file`. */
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
  const response = await fetch(t.url, {
    method: 'POST',
    body: form,
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
  });
  const body = (await response.json()) as GraphQLResult<T>;
  return { ...body, status: response.status };
}
