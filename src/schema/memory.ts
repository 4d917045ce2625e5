import { queryFromInfo } from '@pothos/plugin-prisma';
import * as agents from '../services/agents/agents.js';
import * as blocks from '../services/memory/blocks.js';
import * as messages from '../services/messages/messages.js';
import { FILES_FOR_MEMORY, memoryOf } from '../services/memory/system-prompt.js';
import { Agent } from './agents.js';
import { connectionOf, named } from './connection.js';
import { firstArgOptions, nestedFirst, takeOf } from './cost.js';
import { builder } from './builder.js';
import { agentId, blockId } from './ids.js';
import { CreateBlockInput } from './inputs.js';
import { nestedList } from './nested-lists.js';

export const Block = builder.prismaNode('Block', {
  id: { field: 'id' },
  // Select mode: a query loads only the columns its fields need, and always the small ones that
  // are read with plain resolvers (a selected field costs Pothos a lookup per row).
  select: { id: true, label: true, value: true },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.services.orgId }),
  nullable: true,
  description: 'A core memory block. One block can be shared by several agents: an edit through one is seen by all.',
  fields: (t) => ({
    label: t.string({ description: 'Its name in core memory (unique per agent), e.g. "persona".', resolve: (block) => block.label }),
    value: t.string({ description: 'Its text.', resolve: (block) => block.value }),
    limit: t.exposeInt('limit', { description: 'Shown to the model as chars_limit; not enforced (as in current Letta).' }),
    charsCurrent: t.int({ description: 'The length of the value.', resolve: (block) => block.value.length }),
    description: t.exposeString('description', { description: 'What the block is for, shown to the model.', nullable: true }),
    readOnly: t.exposeBoolean('readOnly', { description: 'The agent cannot edit it.' }),
    metadata: t.expose('metadata', { description: 'Free-form metadata.', type: 'JSON', nullable: true }),
    tags: t.exposeStringList('tags', { description: 'Labels to filter blocks by.' }),
    agents: t.field({
      type: [Agent],
      description: 'The agents that show this block, oldest attachment first.',
      args: { first: t.arg.int({ ...firstArgOptions('agents'), validate: nestedFirst }) },
      resolve: (block, args, ctx, info) => nestedList(ctx, info, block.id, takeOf(args.first), (ids, take, shape) => blocks.firstAgentsOfBlocks(ctx.services, ids, take, shape)),
    }),
    createdAt: t.expose('createdAt', { description: 'When it was created.', type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { description: 'When it last changed.', type: 'DateTime' }),
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
    // In the agent's own statement (an agent's blocks are few, and a list of agents with their
    // blocks is the most common query); Block.agents below is what bounds a deep query's levels.
    select: (args, _ctx, nestedSelection) => ({
      blocks: { orderBy: [{ createdAt: 'asc' }, { blockLabel: 'asc' }], take: takeOf(args.first), select: { block: nestedSelection(true) } },
    }),
    resolve: (agent) => agent.blocks.map((link) => link.block),
  }),
  block: t.field({ description: 'The block with this label in its core memory, or null.',
    type: Block,
    nullable: true,
    args: { label: t.arg.string({ description: 'The label, e.g. "human".' }) },
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
  description: "Which blocks to list.",
  fields: (t) => ({
    label: t.string({ description: 'Only blocks with this label.', required: false }),
    search: t.string({ required: false, description: 'Case-insensitive text in the value.' }),
    agentId: t.id({ required: false, description: 'Only blocks attached to this agent.' }),
  }),
});

const UpdateBlockInput = builder.inputType('UpdateBlockInput', {
  description:
    'Partial update of a block addressed by `id`, or by `agentId` with `blockLabel`. Editing the value or label of a read-only block needs readOnly: false in the same update.',
  fields: (t) => ({
    id: t.id({ required: false, validate: blockId, description: 'The block to update (or give agentId and blockLabel).' }),
    agentId: t.id({ required: false, validate: agentId, description: 'With blockLabel: the block of this agent with that label.' }),
    blockLabel: t.string({ required: false, description: 'With agentId: the current label of the block to update.' }),
    label: t.string({ required: false, description: 'A new label.' }),
    value: t.string({ required: false, description: 'The new text of the block.' }),
    limit: t.int({ required: false, description: 'Characters shown to the model as chars_limit.' }),
    description: t.string({ required: false, description: 'What the block is for, shown to the model.' }),
    readOnly: t.boolean({ required: false, description: 'Whether the agent may edit the block.' }),
    metadata: t.field({ type: 'JSON', required: false, description: 'Free-form metadata.' }),
    tags: t.stringList({ required: false, description: 'Replaces the tags.' }),
  }),
});

const AgentBlockInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      agentId: t.id({ validate: agentId, description: 'The agent.' }),
      blockId: t.id({ validate: blockId, description: 'The block.' }),
    }),
  });

const AttachBlockInput = AgentBlockInput('AttachBlockInput', 'A block to attach to an agent.');
const DetachBlockInput = AgentBlockInput('DetachBlockInput', 'A block to detach from an agent.');

const DeleteBlockInput = builder.inputType('DeleteBlockInput', {
  description: "The block to delete.",
  fields: (t) => ({ id: t.id({ validate: blockId, description: 'The block to delete.' }) }),
});

type BlockShape = typeof Block.$inferType;

const blockPayload = (name: string, description: string) =>
  builder.objectRef<{ block: BlockShape }>(name).implement({
    description,
    fields: (t) => ({ block: t.field({ type: Block, description: 'The block as it is now.', resolve: (payload) => payload.block }) }),
  });

const CreateBlockPayload = blockPayload('CreateBlockPayload', 'The result of createBlock.');
const UpdateBlockPayload = blockPayload('UpdateBlockPayload', 'The result of updateBlock.');

const attachmentPayload = (name: string, description: string) =>
  builder.objectRef<{ agentId: string; block: BlockShape; changed: boolean }>(name).implement({
    description,
    fields: (t) => ({
      agent: t.prismaField({
        type: 'Agent',
        description: 'The agent, with its memory as it is now.',
        resolve: (query, payload, _args, ctx) => agents.getAgent(ctx.services, payload.agentId, query),
      }),
      block: t.field({ type: Block, description: 'The block.', resolve: (payload) => payload.block }),
      changed: t.exposeBoolean('changed', { description: 'False when the block already was (or was not) attached: nothing changed.' }),
    }),
  });

const AttachBlockPayload = attachmentPayload('AttachBlockPayload', 'The result of attachBlock. Repeating it is a no-op with changed: false.');
const DetachBlockPayload = attachmentPayload('DetachBlockPayload', 'The result of detachBlock. Repeating it is a no-op with changed: false.');

const DeleteBlockPayload = builder.objectRef<{ deletedBlockId: string }>('DeleteBlockPayload').implement({
  description: 'The result of deleteBlock.',
  fields: (t) => ({ deletedBlockId: t.exposeID('deletedBlockId', { description: 'The id of the deleted block.' }) }),
});

builder.queryFields((t) => ({
  block: t.prismaField({ description: 'One block, or null (and NOT_FOUND).',
    type: 'Block',
    nullable: true,
    args: { id: t.arg.id({ description: 'The block id.', validate: blockId }) },
    resolve: (query, _root, args, ctx) => blocks.getBlock(ctx.services, args.id, query),
  }),
  blocks: t.connection({
    type: Block,
    description: 'Blocks of your organization, newest first.',
    args: { filter: t.arg({ description: 'Which blocks.', type: BlockFilter, required: false }) },
    resolve: async (_root, args, ctx, info) => {
      const page = await blocks.listBlocks(ctx.services, args, queryFromInfo({ context: ctx, info, path: ['edges', 'node'] }));
      return connectionOf(page);
    },
  }, ...named('Block', 'blocks')),
}));

builder.mutationFields((t) => ({
  createBlock: t.field({
    type: CreateBlockPayload,
    description: 'A standalone block, to attach to one or more agents.',
    args: { input: t.arg({ type: CreateBlockInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ block: await blocks.createBlock(ctx.services, args.input) }),
  }),
  updateBlock: t.field({
    type: UpdateBlockPayload,
    description: 'Edits a block, addressed by id or by an agent and its label; rebuilds the system prompt of every agent that shows it.',
    args: { input: t.arg({ type: UpdateBlockInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => {
      const { id, agentId: agent, blockLabel, ...patch } = args.input;
      return { block: await blocks.updateBlock(ctx.services, blockRef({ id, agentId: agent, label: blockLabel }), patch) };
    },
  }),
  deleteBlock: t.field({
    type: DeleteBlockPayload,
    description: 'Deletes a block and detaches it from every agent.',
    args: { input: t.arg({ type: DeleteBlockInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, args, ctx) => ({ deletedBlockId: await blocks.deleteBlock(ctx.services, args.input.id) }),
  }),
  attachBlock: t.field({
    type: AttachBlockPayload,
    description: "Shows a block in the agent's core memory (after its other blocks); its system prompt is rebuilt.",
    args: { input: t.arg({ type: AttachBlockInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input }, ctx) => ({ agentId: input.agentId, ...(await blocks.attachBlock(ctx.services, input.agentId, input.blockId)) }),
  }),
  detachBlock: t.field({
    type: DetachBlockPayload,
    description: "Removes a block from the agent's core memory (the block itself stays); its system prompt is rebuilt.",
    args: { input: t.arg({ type: DetachBlockInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input }, ctx) => ({ agentId: input.agentId, ...(await blocks.detachBlock(ctx.services, input.agentId, input.blockId)) }),
  }),
}));

function blockRef(args: { id?: string | null; agentId?: string | null; label?: string | null }): blocks.BlockRef {
  if (args.id && !args.agentId && args.label == null) return { id: args.id };
  if (!args.id && args.agentId && args.label != null) return { agentId: args.agentId, label: args.label };
  throw blocks.blockRefError();
}
