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
import { AppError, badInput } from '../errors.js';
import { ID_PREFIXES, expectedIdForm, kindOfId } from '../ids.js';
import { fieldCost } from './cost.js';

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
    // Letta's ids are already globally unique and typed by their prefix: they are the node ids.
    encodeGlobalID: (_typename, id) => String(id),
    decodeGlobalID: (globalID) => {
      const kind = kindOfId(globalID);
      if (!kind) {
        throw badInput('id', `malformed id '${globalID.slice(0, 80)}'; expected '<prefix>-<uuid4>' with a prefix among ${Object.values(ID_PREFIXES).join(', ')}, e.g. ${expectedIdForm('Agent')}`);
      }
      return { typename: kind, id: globalID };
    },
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver);

// Every root field needs a caller; organisations never see each other's rows (services scope them).
builder.queryType({ authScopes: { member: true } });
builder.mutationType({ authScopes: { member: true } });
builder.subscriptionType({ authScopes: { member: true } });

export const SortDirectionEnum = builder.enumType('SortDirection', {
  values: { ASC: { value: 'asc' }, DESC: { value: 'desc' } } as const,
});
