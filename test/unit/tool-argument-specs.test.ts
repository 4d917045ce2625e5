import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinTool } from '../../src/agent/tools/builtin.js';
import { CONVERSATION_SEARCH_PARAMS } from '../../src/agent/tools/conversation-search.js';
import { MEMORY_TOOL_PARAMS } from '../../src/agent/tools/memory-tools.js';
import type { ParamSpec } from '../../src/agent/tools/tool-arguments.js';
import { archivalInsertArgs, archivalSearchArgs } from '../../src/services/archival/passages.js';
import { grepArgs, openArgs, semanticArgs } from '../../src/services/files/file-tools.js';

/**
 * A built-in tool's arguments are written down where the model sees them (the JSON schema in
 * builtin.ts) and where they are checked (a Python-style signature, or a zod schema). These tests
 * hold the copies to each other: same names, same required set, same JSON types.
 */
interface Shape {
  names: string[];
  required: string[];
  types: Record<string, string>;
}

const LOOP_ONLY = new Set(['request_heartbeat']);

function modelShape(tool: string): Shape {
  const definition = builtinTool(tool);
  if (!definition) throw new Error(`${tool} is not a built-in tool`);
  const { properties, required } = definition.jsonSchema.parameters;
  const names = Object.keys(properties).filter((name) => !LOOP_ONLY.has(name));
  const types = Object.fromEntries(names.map((name) => [name, jsonType(properties[name])]));
  return { names: names.sort(), required: required.filter((name) => !LOOP_ONLY.has(name)).sort(), types };
}

const KIND_TYPES = { str: 'string', int: 'integer', list: 'array' } as const;

function signatureShape(params: readonly ParamSpec[]): Shape {
  return {
    names: params.map((p) => p.name).sort(),
    required: params.filter((p) => !p.optional).map((p) => p.name).sort(),
    types: Object.fromEntries(params.map((p) => [p.name, KIND_TYPES[p.kind]])),
  };
}

function zodShape(schema: z.ZodObject): Shape {
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, unknown>; required?: string[] };
  const names = Object.keys(json.properties);
  const types = Object.fromEntries(names.map((name) => [name, jsonType(json.properties[name])]));
  return { names: names.sort(), required: (json.required ?? []).sort(), types };
}

/** The JSON type of a property, ignoring a `null` alternative (nullish optional arguments). */
function jsonType(schema: unknown): string {
  const node = schema as { type?: string | string[]; anyOf?: unknown[] };
  if (node.anyOf) {
    const types = node.anyOf.map(jsonType).filter((t) => t !== 'null');
    return [...new Set(types)].join('|');
  }
  if (Array.isArray(node.type)) return node.type.filter((t) => t !== 'null').join('|');
  return node.type ?? 'any';
}

describe('built-in tool argument specs agree', () => {
  it.each(Object.keys(MEMORY_TOOL_PARAMS))('%s: JSON schema and executor signature', (tool) => {
    expect(signatureShape(MEMORY_TOOL_PARAMS[tool]!)).toEqual(modelShape(tool));
  });

  it('conversation_search: JSON schema and executor signature', () => {
    expect(signatureShape(CONVERSATION_SEARCH_PARAMS)).toEqual(modelShape('conversation_search'));
  });

  it.each([
    ['open_files', openArgs],
    ['grep_files', grepArgs],
    ['semantic_search_files', semanticArgs],
    ['archival_memory_search', archivalSearchArgs],
    ['archival_memory_insert', archivalInsertArgs],
  ] as const)('%s: JSON schema and zod schema', (tool, schema) => {
    expect(zodShape(schema)).toEqual(modelShape(tool));
  });
});
