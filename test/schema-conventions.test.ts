import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
} from 'graphql';
import { schema } from '../src/schema/index.js';
import { ERROR_CODES } from '../src/errors.js';

/**
 * The conventions of docs/api.md, checked on the built schema: what a reviewer would otherwise
 * have to catch by reading schema.graphql.
 */

const ownTypes = Object.values(schema.getTypeMap()).filter((type) => !type.name.startsWith('__') && !['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name));

type Described = GraphQLNamedType | GraphQLField<unknown, unknown> | GraphQLInputField | GraphQLArgument;

/** Every type, field (of objects, interfaces and inputs) and argument, with a name for reports. */
function describables(): Array<[string, Described]> {
  const items: Array<[string, Described]> = [];
  for (const type of ownTypes) {
    items.push([type.name, type]);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        items.push([`${type.name}.${field.name}`, field]);
        for (const arg of 'args' in field ? field.args : []) items.push([`${type.name}.${field.name}(${arg.name})`, arg]);
      }
    }
  }
  return items;
}

describe('schema conventions', () => {
  it('describes at least 95% of types, fields and arguments', () => {
    const items = describables();
    const missing = items.filter(([, item]) => !item.description?.trim()).map(([name]) => name);
    const coverage = 1 - missing.length / items.length;
    expect(coverage, `${(coverage * 100).toFixed(1)}% described; missing: ${missing.join(', ')}`).toBeGreaterThanOrEqual(0.95);
  });

  it('gives every mutation one input and its own payload: name(input: NameInput!): NamePayload!', () => {
    const mutations = Object.values(schema.getMutationType()!.getFields());
    const payloads = new Set<string>();
    for (const mutation of mutations) {
      const capitalized = mutation.name[0]!.toUpperCase() + mutation.name.slice(1);
      expect(mutation.args.map((arg) => `${arg.name}: ${String(arg.type)}`), mutation.name).toEqual([`input: ${capitalized}Input!`]);
      expect(String(mutation.type), mutation.name).toBe(`${capitalized}Payload!`);
      payloads.add(String(mutation.type));
    }
    expect(payloads.size).toBe(mutations.length);
  });

  it('writes enum values in UPPER_CASE', () => {
    const lower = ownTypes.filter(isEnumType).flatMap((type) => type.getValues().filter((value) => value.name !== value.name.toUpperCase()).map((value) => `${type.name}.${value.name}`));
    expect(lower).toEqual([]);
  });

  it('names connections after their node, with edges, nodes, totalCount and the one PageInfo', () => {
    const connections = ownTypes.filter((type) => type.name.endsWith('Connection'));
    expect(connections.length).toBeGreaterThan(5);
    for (const connection of connections) {
      if (!isObjectType(connection)) throw new Error(`${connection.name} is not an object type`);
      const fields = connection.getFields();
      expect(Object.keys(fields).sort(), connection.name).toEqual(['edges', 'nodes', 'pageInfo', 'totalCount']);
      const node = getNamedType(fields.nodes!.type).name;
      expect(connection.name).toBe(`${node}Connection`);
      expect(getNamedType(fields.edges!.type).name).toBe(`${node}Edge`);
      expect(String(fields.pageInfo!.type)).toBe('PageInfo!');
      expect(isNonNullType(fields.totalCount!.type)).toBe(true);
    }
    expect(ownTypes.filter((type) => type.name.endsWith('PageInfo')).map((type) => type.name)).toEqual(['PageInfo']);
  });

  it('types ids as ID and dates as DateTime', () => {
    const wrong: string[] = [];
    for (const [name, item] of describables()) {
      if (!('type' in item)) continue;
      const field = name.split(/[.(]/).at(-1)!.replace(')', '');
      const type = getNamedType(item.type).name;
      if (/(^id|Id|Ids)$/.test(field) && !['toolCallId', 'senderId', 'seqId'].includes(field) && type !== 'ID') wrong.push(`${name}: ${type}`);
      if (/(At|Date|Datetime)$/.test(field) && type !== 'DateTime') wrong.push(`${name}: ${type}`);
    }
    expect(wrong).toEqual([]);
  });

  it('lists every error code in the ErrorCode enum and in the table of docs/api.md', () => {
    const errorCode = schema.getType('ErrorCode');
    if (!isEnumType(errorCode)) throw new Error('ErrorCode is not an enum');
    expect(errorCode.getValues().map((value) => value.name)).toEqual([...ERROR_CODES]);
    expect(errorCode.getValues().every((value) => value.description)).toBe(true);
    const doc = fs.readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
    const table = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(table).toEqual([...ERROR_CODES]);
  });
});
