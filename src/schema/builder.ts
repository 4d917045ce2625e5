import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ValidationPlugin from '@pothos/plugin-validation';
import ComplexityPlugin from '@pothos/plugin-complexity';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import type { Caller } from '../services/platform/auth.js';
import type { ServiceContext } from '../services/platform/context.js';
import { isObjectType, type GraphQLSchema } from 'graphql';
import { AppError } from '../errors.js';
import { kindOfId } from '../ids.js';
import { fieldCost } from './cost.js';

/** Whether `typename` is an object type implementing Node (ids of other kinds resolve to null). */
const isNodeType = (schema: GraphQLSchema, typename: string) => {
  const type = typename ? schema.getType(typename) : undefined;
  return isObjectType(type) && type.getInterfaces().some((iface) => iface.name === 'Node');
};

export interface GraphQLContext {
  /** The caller, or null when the request carries no usable credentials. */
  readonly caller: Caller | null;
  /** Why `caller` is null, shown in the UNAUTHENTICATED error. */
  readonly authProblem: string | null;
  /** Services scoped to the caller's organization. */
  readonly services: ServiceContext;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: { member: boolean };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    ID: { Input: string; Output: string };
    /** A file of a GraphQL multipart request (a Web File, as yoga parses it). */
    Upload: { Input: File; Output: never };
  };
}>({
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin, DataloaderPlugin, ValidationPlugin, ComplexityPlugin],
  complexity: {
    // Only the costs are defined here; the limit is checked before execution, on every transport,
    // by transports/operation-limits.ts (the plugin's own check would run per root field, and for
    // a subscription only once it has started).
    fieldComplexity: fieldCost,
    disabled: true,
  },
  scopeAuth: {
    authScopes: (ctx) => ({ member: ctx.caller !== null }),
    authorizeOnSubscribe: true,
    unauthorizedError: (_parent, context) =>
      new AppError('UNAUTHENTICATED', context.authProblem ?? 'An API key is required'),
  },
  prisma: {
    client: (ctx) => ctx.services.prisma,
    dmmf: getDatamodel(),
    onUnusedQuery: null,
  },
  validation: {
    // Argument problems become BAD_USER_INPUT naming the argument path, like service input errors.
    validationError: (failure) => {
      const problems = failure.issues.map((issue) => ({
        path: (issue.path ?? []).map((part) => (typeof part === 'object' ? String(part.key) : String(part))).join('.'),
        message: issue.message,
      }));
      const first = problems[0] ?? { path: 'input', message: 'invalid' };
      return new AppError('BAD_USER_INPUT', `${first.path}: ${first.message}`, { path: first.path, problems });
    },
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesOnConnection: { description: 'The nodes of the edges, in the same order, for clients that need no cursors.' },
    // Letta's ids are already globally unique and typed by their prefix: they are the node ids.
    encodeGlobalID: (_typename, id) => String(id),
    // Only node(id:) and nodes(ids:) decode ids (other arguments are plain IDs checked by zod);
    // an id that names no kind decodes to no type, and those fields answer null for it.
    decodeGlobalID: (globalID) => ({ typename: kindOfId(globalID) ?? '', id: globalID }),
    // node(id:) answers null for anything that is not one of our node types (message-, org-,
    // apikey-, unknown prefixes, malformed ids) instead of letting Pothos fail on the lookup.
    nodeQueryOptions: {
      description: 'Any object with an id (agent, block, tool, run, step, passage, folder, file, file view), by its id; null when there is none in your organization.',
      args: { id: { description: 'An id of any node type.' } },
      resolve: (_root, args, _ctx, info, resolveNode) => (isNodeType(info.schema, args.id.typename) ? resolveNode(args.id) : null),
    },
    nodesQueryOptions: {
      description: 'Several nodes by id, in the order asked; null for each id that names none.',
      args: { ids: { description: 'Ids of any node types.' } },
      resolve: (_root, args, _ctx, info, resolveNodes) => {
        const asked = [...args.ids];
        const known = asked.filter((id) => isNodeType(info.schema, id.typename));
        // plugin-relay 4.8's resolveNodes ignores the ids it is given and reads args.ids: narrow
        // them for the (synchronous) call, then put them back.
        args.ids.splice(0, args.ids.length, ...known);
        const found = Promise.resolve(resolveNodes(known));
        args.ids.splice(0, args.ids.length, ...asked);
        return asked.map(async (id) => {
          const index = known.indexOf(id);
          return index < 0 ? null : ((await found)[index] ?? null);
        });
      },
    },
    pageInfoTypeOptions: { description: 'Where a page sits in its list (Relay).' },
    hasNextPageFieldOptions: { description: 'More rows follow the last one of this page.' },
    hasPreviousPageFieldOptions: { description: 'Rows precede the first one of this page.' },
    startCursorFieldOptions: { description: 'The cursor of the first row of this page.' },
    endCursorFieldOptions: { description: 'The cursor of the last row of this page.' },
    cursorFieldOptions: { description: 'The id of the row: pass it as after or before.' },
    nodeFieldOptions: { description: 'The row.' },
    edgesFieldOptions: { description: 'The rows of this page with their cursors.' },
    pageInfoFieldOptions: { description: 'Whether more rows come before or after this page.' },
    firstArgOptions: { description: 'Rows after the cursor (default 50, at most 500).' },
    afterArgOptions: { description: 'A cursor (a row id): rows after it.' },
    lastArgOptions: { description: 'Rows before the cursor, at most 500.' },
    beforeArgOptions: { description: 'A cursor (a row id): rows before it.' },
    nodeTypeOptions: { description: 'An object with a global id; fetch any with node(id:).' },
    idFieldOptions: { description: 'Its id, `<prefix>-<uuid4>` (Letta’s format).' },
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver);

// Every root field needs a caller; organisations never see each other's rows (services scope them).
builder.queryType({ authScopes: { member: true }, description: 'Reads: agents and their memory, tools, runs, messages, files and archival memory; the model catalogue.' });
builder.mutationType({ authScopes: { member: true }, description: 'Changes. Every mutation takes one `input` and answers its own payload type.' });
builder.subscriptionType({ authScopes: { member: true }, description: 'Live events over graphql-ws (/graphql) or GraphQL over SSE (/graphql/stream).' });

export const SortDirectionEnum = builder.enumType('SortDirection', {
  description: 'The direction of an order.',
  values: { ASC: { value: 'asc', description: 'Smallest (oldest) first.' }, DESC: { value: 'desc', description: 'Largest (newest) first.' } } as const,
});
