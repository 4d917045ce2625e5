import * as auth from '../services/platform/auth.js';
import { builder } from './builder.js';
import { idOf } from './ids.js';

const ApiKeyRef = builder.prismaObject('ApiKey', {
  description: 'An API key of the organization. The secret itself is shown only once, by createApiKey.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to recognise it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.prismaObject('Organization', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const CreateApiKeyPayload = builder
  .objectRef<{ apiKey: typeof ApiKeyRef.$inferType; key: string }>('CreateApiKeyPayload')
  .implement({
    fields: (t) => ({
      apiKey: t.field({ type: ApiKeyRef, resolve: (payload) => payload.apiKey }),
      key: t.exposeString('key', { description: 'The secret. Store it now: it cannot be read again.' }),
    }),
  });

const RevokeApiKeyPayload = builder.objectRef<{ apiKey: typeof ApiKeyRef.$inferType }>('RevokeApiKeyPayload').implement({
  fields: (t) => ({ apiKey: t.field({ type: ApiKeyRef, resolve: (payload) => payload.apiKey }) }),
});

const apiKeyId = idOf('ApiKey');

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({ name: t.string({ description: 'A name to recognise the key by.' }) }),
});

const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  fields: (t) => ({ id: t.id({ validate: apiKeyId, description: 'The key to revoke.' }) }),
});

builder.queryFields((t) => ({
  organization: t.prismaField({
    type: 'Organization',
    description: "The caller's organization.",
    resolve: (query, _root, _args, ctx) =>
      auth.getOrganization(ctx.services.prisma, ctx.services.orgId, query),
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    resolve: (_root, _args, ctx) => auth.listApiKeys(ctx.services.prisma, ctx.services.orgId),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    description: "Mints another key for the caller's organization.",
    args: { input: t.arg({ type: CreateApiKeyInput }) },
    resolve: (_root, args, ctx) => auth.mintApiKey(ctx.services.prisma, ctx.services.orgId, args.input.name),
  }),
  revokeApiKey: t.field({
    type: RevokeApiKeyPayload,
    description: 'Revokes a key of the organization: requests with it are refused from now on.',
    args: { input: t.arg({ type: RevokeApiKeyInput }) },
    resolve: async (_root, args, ctx) => ({
      apiKey: await auth.revokeApiKey(ctx.services.prisma, ctx.services.orgId, args.input.id),
    }),
  }),
}));
