import * as passages from '../services/archival/passages.js';
import { Agent } from './agents.js';
import { builder, SortDirectionEnum } from './builder.js';
import { HEAVY_FIELD_COST } from './cost.js';
import { TagMatchModeEnum } from './enums.js';
import { connectionOf, named } from './connection.js';
import { idOf } from './ids.js';

const passageId = idOf('Passage');

export const Passage = builder.prismaNode('Passage', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: "A passage of archival memory (an agent's long-term store) or a chunk of an uploaded file, with its embedding.",
  fields: (t) => ({
    text: t.exposeString('text', { description: 'Its text.' }),
    tags: t.exposeStringList('tags', { description: 'Labels to filter by.' }),
    metadata: t.expose('metadata', { description: 'Free-form metadata.', type: 'JSON', nullable: true }),
    embedding: t.exposeString('embeddingModel', { nullable: true, description: "The embedding handle 'provider/model' that embedded it." }),
    embeddingDim: t.exposeInt('embeddingDim', { nullable: true, description: 'The length of its vector.' }),
    fileId: t.exposeID('fileId', { description: 'For a chunk of a file: the file.', nullable: true }),
    fileName: t.exposeString('fileName', { description: 'For a chunk of a file: its name as agents see it.', nullable: true }),
    createdAt: t.expose('createdAt', { description: 'When it was stored.', type: 'DateTime' }),
  }),
});

const PassageSortFieldEnum = builder.enumType('PassageSortField', {
  description: 'What passages sort by.',
  values: { CREATED_AT: { value: 'createdAt', description: 'Creation time (then id).' } } as const,
});

const PassageOrder = builder.inputType('PassageOrder', {
  description: 'The order of a passage list.',
  fields: (t) => ({
    field: t.field({ type: PassageSortFieldEnum, defaultValue: 'createdAt', description: 'What to sort by.' }),
    direction: t.field({ type: SortDirectionEnum, defaultValue: 'asc', description: 'ASC: oldest first (the default); DESC: newest first.' }),
  }),
});

const ArchivalSearchHit = builder.objectRef<passages.ArchivalSearchHit>('ArchivalSearchHit').implement({
  description: 'One archival search result, best first.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The passage id.' }),
    content: t.string({ description: 'The text of the passage.', resolve: (hit) => hit.text }),
    tags: t.exposeStringList('tags', { description: 'Its tags.' }),
    createdAt: t.expose('createdAt', { description: 'When it was stored.', type: 'DateTime' }),
    timestamp: t.exposeString('timestamp', { description: "Creation time in the agent's timezone (ISO 8601), as the tool shows it." }),
    score: t.exposeFloat('score', { description: 'Cosine similarity to the query (1 = same direction).' }),
  }),
});

builder.prismaObjectFields(Agent, (t) => ({
  passages: t.connection({
    type: Passage,
    description: "Archival memory, oldest first by default. Cursors are chronological whatever the order (Letta): after = later, before = earlier.",
    args: {
      search: t.arg.string({ required: false, description: 'Case-insensitive text in the passage.' }),
      orderBy: t.arg({ type: PassageOrder, required: false, description: 'Default: oldest first.' }),
    },
    resolve: async (agent, { orderBy, ...args }, ctx) => connectionOf(await passages.listPassages(ctx.services, agent.id, { ...args, direction: orderBy?.direction })),
  }, ...named('Passage', 'passages')),
  archivalSearch: t.field({
    type: [ArchivalSearchHit],
    description:
      'Archival memory ranked by meaning. Tag and date filters apply inside the search, so up to topK matches come back. An empty query gives no results.',
    complexity: (args) => ({ field: HEAVY_FIELD_COST.search, multiplier: Math.max(0, Math.min(args.topK ?? 5, 100)) }),
    args: {
      query: t.arg.string({ description: 'What to look for, in words.' }),
      tags: t.arg.stringList({ description: 'Only passages with these tags.', required: false }),
      tagMatchMode: t.arg({ description: 'Any (default) or every tag.', type: TagMatchModeEnum, required: false, defaultValue: 'any' }),
      topK: t.arg.int({ description: 'How many results at most (1 to 50).', required: false, defaultValue: passages.ARCHIVAL_SEARCH_DEFAULT_TOP_K }),
      startDatetime: t.arg({ type: 'DateTime', required: false, description: 'Only passages created at or after this time.' }),
      endDatetime: t.arg({ type: 'DateTime', required: false, description: 'Only passages created at or before this time.' }),
    },
    resolve: (agent, { startDatetime, endDatetime, ...args }, ctx) =>
      passages.archivalSearch(ctx.services, agent.id, { ...args, startDatetime: startDatetime?.toISOString(), endDatetime: endDatetime?.toISOString() }),
  }),
}));

const CreatePassageInput = builder.inputType('CreatePassageInput', {
  description: "A passage to add to an agent's archival memory.",
  fields: (t) => ({
    agentId: t.id({ description: 'The agent whose archival memory gets it.' }),
    text: t.string({ description: 'The text to remember.' }),
    tags: t.stringList({ description: 'Labels to filter by in archivalSearch.', required: false }),
    createdAt: t.field({ type: 'DateTime', required: false, description: 'Default: now.' }),
  }),
});

type PassageShape = typeof Passage.$inferType;

const CreatePassagePayload = builder.objectRef<{ passage: PassageShape }>('CreatePassagePayload').implement({
  description: "The result of createPassage.",
  fields: (t) => ({ passage: t.field({ type: Passage, description: 'The passage.', resolve: (payload) => payload.passage }) }),
});

const DeletePassageInput = builder.inputType('DeletePassageInput', {
  description: "The passage to delete.",
  fields: (t) => ({ id: t.id({ validate: passageId, description: 'The passage to delete.' }) }),
});

const DeletePassagePayload = builder.objectRef<{ deletedPassageId: string }>('DeletePassagePayload').implement({
  description: "The result of deletePassage.",
  fields: (t) => ({ deletedPassageId: t.exposeID('deletedPassageId', { description: 'The id of the deleted passage.' }) }),
});

builder.queryFields((t) => ({
  passage: t.prismaField({ description: 'One passage, or null (and NOT_FOUND).',
    type: 'Passage',
    nullable: true,
    args: { id: t.arg.id({ description: 'The passage id.', validate: passageId }) },
    resolve: (_query, _root, args, ctx) => passages.getPassage(ctx.services, args.id),
  }),
}));

builder.mutationFields((t) => ({
  createPassage: t.field({
    type: CreatePassagePayload,
    description: "Adds a passage to an agent's archival memory, embedded with the agent's embedding model.",
    args: { input: t.arg({ type: CreatePassageInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ passage: await passages.createPassage(ctx.services, args.input) }),
  }),
  deletePassage: t.field({ description: 'Deletes a passage of an agent\'s archival memory.',
    type: DeletePassagePayload,
    args: { input: t.arg({ type: DeletePassageInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ deletedPassageId: await passages.deletePassage(ctx.services, args.input.id) }),
  }),
}));
