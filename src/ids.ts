import { randomUUID } from 'node:crypto';

/** Letta's id prefixes, keyed by the GraphQL type that carries them. */
export const ID_PREFIXES = {
  Organization: 'org',
  ApiKey: 'apikey',
  Agent: 'agent',
  Block: 'block',
  Tool: 'tool',
  Folder: 'source',
  File: 'file',
  FileAgent: 'file_agent',
  Passage: 'passage',
  Message: 'message',
  Run: 'run',
  Step: 'step',
  McpServer: 'mcp_server',
  Group: 'group',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const UUID4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
const ID_PATTERN = new RegExp(`^([a-z_]+)-(${UUID4})$`);

export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}-${randomUUID()}`;
}

export function isIdOf(kind: IdKind, value: string): boolean {
  const match = ID_PATTERN.exec(value);
  return match !== null && match[1] === ID_PREFIXES[kind];
}

export function expectedIdForm(kind: IdKind): string {
  return `'${ID_PREFIXES[kind]}-<uuid4>' (e.g. ${ID_PREFIXES[kind]}-00000000-0000-4000-8000-000000000000)`;
}

/** The kind of a well-formed id, or undefined when the prefix or uuid part is malformed. */
export function kindOfId(value: string): IdKind | undefined {
  const match = ID_PATTERN.exec(value);
  if (!match) return undefined;
  return (Object.keys(ID_PREFIXES) as IdKind[]).find((kind) => ID_PREFIXES[kind] === match[1]);
}

export const DEFAULT_ORG_ID = 'org-00000000-0000-4000-8000-000000000000';
