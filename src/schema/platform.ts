import * as auth from '../services/platform/auth.js';
import { builder } from './builder.js';
import { idOf } from './ids.js';

const ApiKeyRef = builder.prismaObject('ApiKey', {
  description: 'An API key of the organization. The secret itself is shown only once, by createApiKey.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Its id.' }),
    name: t.exposeString('name', { description: 'Its name.' }),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to recognise it.' }),
    createdAt: t.expose('createdAt', { description: 'When it was minted.', type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { description: 'When it was revoked; null while valid.', type: 'DateTime', nullable: true }),
  }),
});

builder.prismaObject('Organization', {
  description: "The organization of the caller: every object belongs to one, and organizations never see each other.",
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Its id.' }),
    name: t.exposeString('name', { description: 'Its name.' }),
    createdAt: t.expose('createdAt', { description: 'When it was created.', type: 'DateTime' }),
  }),
});

const CreateApiKeyPayload = builder
  .objectRef<{ apiKey: typeof ApiKeyRef.$inferType; key: string }>('CreateApiKeyPayload')
  .implement({
  description: "The result of createApiKey.",
    fields: (t) => ({
      apiKey: t.field({ description: 'The new key (without the secret).', type: ApiKeyRef, resolve: (payload) => payload.apiKey }),
      key: t.exposeString('key', { description: 'The secret. Store it now: it cannot be read again.' }),
    }),
  });

const RevokeApiKeyPayload = builder.objectRef<{ apiKey: typeof ApiKeyRef.$inferType }>('RevokeApiKeyPayload').implement({
  description: "The result of revokeApiKey.",
  fields: (t) => ({ apiKey: t.field({ type: ApiKeyRef, description: 'The apiKey.', resolve: (payload) => payload.apiKey }) }),
});

const apiKeyId = idOf('ApiKey');

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  description: "A new API key.",
  fields: (t) => ({ name: t.string({ description: 'A name to recognise the key by.' }) }),
});

const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  description: "The key to revoke.",
  fields: (t) => ({ id: t.id({ validate: apiKeyId, description: 'The key to revoke.' }) }),
});

builder.queryFields((t) => ({
  organization: t.prismaField({
    type: 'Organization',
    description: "The caller's organization.",
    resolve: (query, _root, _args, ctx) =>
      auth.getOrganization(ctx.services.prisma, ctx.services.orgId, query),
  }),
  apiKeys: t.field({ description: 'The API keys of your organization, revoked ones included.',
    type: [ApiKeyRef],
    resolve: (_root, _args, ctx) => auth.listApiKeys(ctx.services.prisma, ctx.services.orgId),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    description: "Mints another key for the caller's organization.",
    args: { input: t.arg({ type: CreateApiKeyInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: (_root, args, ctx) => auth.mintApiKey(ctx.services.prisma, ctx.services.orgId, args.input.name),
  }),
  revokeApiKey: t.field({
    type: RevokeApiKeyPayload,
    description: 'Revokes a key of the organization: requests with it are refused from now on.',
    args: { input: t.arg({ type: RevokeApiKeyInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({
      apiKey: await auth.revokeApiKey(ctx.services.prisma, ctx.services.orgId, args.input.id),
    }),
  }),
}));
