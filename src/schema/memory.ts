import { queryFromInfo } from '@pothos/plugin-prisma';
import * as agents from '../services/agents/agents.js';
import * as blocks from '../services/memory/blocks.js';
import * as messages from '../services/messages/messages.js';
import { FILES_FOR_MEMORY, memoryOf } from '../services/memory/system-prompt.js';
import { Agent } from './agents.js';
import { connectionOf } from './connection.js';
import { firstArgOptions, nestedFirst, takeOf } from './cost.js';
import { builder } from './builder.js';
import { agentId, blockId } from './ids.js';
import { CreateBlockInput } from './inputs.js';

export const Block = builder.prismaNode('Block', {
  id: { field: 'id' },
  // Select mode: a query loads only the columns its fields need, and always the small ones that
  // are read with plain resolvers (a selected field costs Pothos a lookup per row).
  select: { id: true, label: true, value: true },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: 'A core memory block. One block can be shared by several agents: an edit through one is seen by all.',
  fields: (t) => ({
    label: t.string({ resolve: (block) => block.label }),
    value: t.string({ resolve: (block) => block.value }),
    limit: t.exposeInt('limit', { description: 'Shown to the model as chars_limit; not enforced (as in current Letta).' }),
    charsCurrent: t.int({ resolve: (block) => block.value.length }),
    description: t.exposeString('description', { nullable: true }),
    readOnly: t.exposeBoolean('readOnly'),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
    tags: t.exposeStringList('tags'),
    agents: t.field({
      type: [Agent],
      description: 'The agents that show this block, oldest attachment first.',
      args: { first: t.arg.int({ ...firstArgOptions('agents'), validate: nestedFirst }) },
      select: (args, _ctx, nestedSelection) => ({
        agents: { orderBy: { createdAt: 'asc' }, take: takeOf(args.first), select: { agent: nestedSelection(true) } },
      }),
      resolve: (block) => block.agents.map((link) => link.agent),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const promptSelect = {
  ...FILES_FOR_MEMORY,
  agentType: true,
  toolRules: true,
  model: true,
  blocks: { include: { block: true }, orderBy: [{ createdAt: 'asc' }, { blockLabel: 'asc' }] },
} as const;

builder.prismaObjectFields(Agent, (t) => ({
  blocks: t.field({
    type: [Block],
    description: 'Core memory blocks, in the order they were attached.',
    args: { first: t.arg.int({ ...firstArgOptions('blocks'), validate: nestedFirst }) },
    select: (args, _ctx, nestedSelection) => ({
      blocks: { orderBy: [{ createdAt: 'asc' }, { blockLabel: 'asc' }], take: takeOf(args.first), select: { block: nestedSelection(true) } },
    }),
    resolve: (agent) => agent.blocks.map((link) => link.block),
  }),
  block: t.field({
    type: Block,
    nullable: true,
    args: { label: t.arg.string() },
    select: (args, _ctx, nestedSelection) => ({ blocks: { where: { blockLabel: args.label }, select: { block: nestedSelection(true) } } }),
    resolve: (agent) => agent.blocks[0]?.block ?? null,
  }),
  memory: t.string({
    description: "The compiled core memory, in Letta's format, as it is injected into the system prompt.",
    select: promptSelect,
    resolve: (agent) => memoryOf(agent as never),
  }),
  systemPrompt: t.loadable({
    type: 'String',
    nullable: true,
    description: 'The system message the model sees: the template with memory and memory metadata injected.',
    // Batched: one load for all agents of a response.
    load: (agentIds: string[], ctx) => messages.systemPrompts(ctx.services, agentIds),
    resolve: (agent) => agent.id,
  }),
}));

const BlockFilter = builder.inputType('BlockFilter', {
  fields: (t) => ({
    label: t.string({ required: false }),
    search: t.string({ required: false, description: 'Case-insensitive text in the value.' }),
    agentId: t.id({ required: false, description: 'Only blocks attached to this agent.' }),
  }),
});

const UpdateBlockInput = builder.inputType('UpdateBlockInput', {
  description: 'Partial update. Editing the value or label of a read-only block needs readOnly: false in the same update.',
  fields: (t) => ({
    label: t.string({ required: false }),
    value: t.string({ required: false }),
    limit: t.int({ required: false }),
    description: t.string({ required: false }),
    readOnly: t.boolean({ required: false }),
    metadata: t.field({ type: 'JSON', required: false }),
    tags: t.stringList({ required: false }),
  }),
});

type BlockShape = typeof Block.$inferType;

const BlockPayload = builder.objectRef<{ block: BlockShape }>('BlockPayload').implement({
  fields: (t) => ({ block: t.field({ type: Block, resolve: (payload) => payload.block }) }),
});

const BlockAttachmentPayload = builder
  .objectRef<{ agentId: string; block: BlockShape; changed: boolean }>('BlockAttachmentPayload')
  .implement({
    description: 'Result of attachBlock / detachBlock. Repeating either is a no-op with changed: false.',
    fields: (t) => ({
      agent: t.prismaField({
        type: 'Agent',
        resolve: (query, payload, _args, ctx) => agents.getAgent(ctx.services, payload.agentId, query),
      }),
      block: t.field({ type: Block, resolve: (payload) => payload.block }),
      changed: t.exposeBoolean('changed'),
    }),
  });

const DeleteBlockPayload = builder.objectRef<{ deletedBlockId: string }>('DeleteBlockPayload').implement({
  fields: (t) => ({ deletedBlockId: t.exposeID('deletedBlockId') }),
});

builder.queryFields((t) => ({
  block: t.prismaField({
    type: 'Block',
    nullable: true,
    args: { id: t.arg.id({ validate: blockId }) },
    resolve: (query, _root, args, ctx) => blocks.getBlock(ctx.services, args.id, query),
  }),
  blocks: t.connection({
    type: Block,
    args: { filter: t.arg({ type: BlockFilter, required: false }) },
    resolve: async (_root, args, ctx, info) => {
      const page = await blocks.listBlocks(ctx.services, args, queryFromInfo({ context: ctx, info, path: ['edges', 'node'] }));
      return connectionOf(page);
    },
  }),
}));

builder.mutationFields((t) => ({
  createBlock: t.field({
    type: BlockPayload,
    description: 'A standalone block, to attach to one or more agents.',
    args: { input: t.arg({ type: CreateBlockInput }) },
    resolve: async (_root, args, ctx) => ({ block: await blocks.createBlock(ctx.services, args.input) }),
  }),
  updateBlock: t.field({
    type: BlockPayload,
    description: 'Edits a block, addressed by id or by an agent and its label; rebuilds the system prompt of every agent that shows it.',
    args: {
      id: t.arg.id({ required: false, validate: blockId }),
      agentId: t.arg.id({ required: false, validate: agentId }),
      label: t.arg.string({ required: false }),
      input: t.arg({ type: UpdateBlockInput }),
    },
    resolve: async (_root, args, ctx) => {
      const ref = blockRef(args);
      return { block: await blocks.updateBlock(ctx.services, ref, args.input) };
    },
  }),
  deleteBlock: t.field({
    type: DeleteBlockPayload,
    description: 'Deletes a block and detaches it from every agent.',
    args: { id: t.arg.id({ validate: blockId }) },
    resolve: async (_root, args, ctx) => ({ deletedBlockId: await blocks.deleteBlock(ctx.services, args.id) }),
  }),
  attachBlock: t.field({
    type: BlockAttachmentPayload,
    args: { agentId: t.arg.id({ validate: agentId }), blockId: t.arg.id({ validate: blockId }) },
    resolve: async (_root, args, ctx) => ({ agentId: args.agentId, ...(await blocks.attachBlock(ctx.services, args.agentId, args.blockId)) }),
  }),
  detachBlock: t.field({
    type: BlockAttachmentPayload,
    args: { agentId: t.arg.id({ validate: agentId }), blockId: t.arg.id({ validate: blockId }) },
    resolve: async (_root, args, ctx) => ({ agentId: args.agentId, ...(await blocks.detachBlock(ctx.services, args.agentId, args.blockId)) }),
  }),
}));

function blockRef(args: { id?: string | null; agentId?: string | null; label?: string | null }): blocks.BlockRef {
  if (args.id && !args.agentId && args.label == null) return { id: args.id };
  if (!args.id && args.agentId && args.label != null) return { agentId: args.agentId, label: args.label };
  throw blocks.blockRefError();
}
