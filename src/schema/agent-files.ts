import * as agents from '../services/agents/agents.js';
import { exportAgents } from '../services/agent-files/export.js';
import { importAgentFile } from '../services/agent-files/import.js';
import { AppError } from '../errors.js';
import { Agent } from './agents.js';
import { builder } from './builder.js';
import { HEAVY_FIELD_COST } from './cost.js';
import { agentId } from './ids.js';
import { Tool } from './tools.js';
import { UploadScalar } from './upload.js';

/** Agent files (.af): Letta's multi-entity export format, written and read here. */

// Imported tools bring their source (Python for Letta's sandbox): stored and shown, never run here.
builder.prismaObjectFields(Tool, (t) => ({
  sourceType: t.exposeString('sourceType', { nullable: true, description: 'python, typescript or json for imported tools; builtin for ours.' }),
  sourceCode: t.exposeString('sourceCode', { nullable: true, description: 'Source code of an imported tool, kept for export; this server never runs it.' }),
}));

const ImportAgentInput = builder.inputType('ImportAgentInput', {
  description: "A Letta agent file, as an upload (`file`) or as JSON (`json`), with Letta's import options.",
  fields: (t) => ({
    file: t.field({ type: UploadScalar, required: false, description: 'The .af file as a part of the multipart request (its map points at variables.input.file).' }),
    json: t.field({ type: 'JSON', required: false, description: 'The agent file as JSON (or as a JSON string).' }),
    overrideExistingTools: t.boolean({ required: false, defaultValue: true, description: 'Custom tools of the same name take the definition in the file; built-in tools never change.' }),
    stripMessages: t.boolean({ required: false, defaultValue: false, description: 'Import without the message history; a fresh system message is built.' }),
    name: t.string({ required: false, description: 'New name of the agent (single-agent files).' }),
    appendCopySuffix: t.boolean({ required: false, defaultValue: false, description: 'Append "_copy" to every agent name (Letta\'s old default); `name` wins.' }),
    model: t.string({ required: false, description: "Model handle 'provider/model' for every imported agent." }),
    embedding: t.string({ required: false, description: "Embedding handle 'provider/model' for the agents and folders." }),
    secrets: t.field({ type: 'JSON', required: false, description: 'Secrets for the agents\' tools, e.g. {"API_KEY": "..."}. Their values are not stored: only the names are kept (and exported); files carry only the names too.' }),
  }),
});

export const Skill = builder.prismaObject('Skill', {
  description: "A skill of an agent, as Letta Code bundles them in agent files: kept, shown and exported; never run by this server.",
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The skill\'s name, unique per agent.' }),
    files: t.expose('files', { type: 'JSON', nullable: true, description: 'The skill\'s files, path → text (SKILL.md and what it uses); null when it lives at sourceUrl.' }),
    sourceUrl: t.exposeString('sourceUrl', { nullable: true, description: 'Where the skill lives when its files are not bundled.' }),
  }),
});

builder.prismaObjectField(Agent, 'skills', (t) =>
  t.relation('skills', { query: { orderBy: [{ position: 'asc' }, { name: 'asc' }] }, description: 'Skills the agent came with (agent files); exported with it.' }),
);

const ImportWarning = builder.objectRef<{ path: string; message: string }>('ImportWarning').implement({
  description: 'Something of the file that import ignored, as Letta does.',
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Where in the file, e.g. agents.0.group_ids.0.' }),
    message: t.exposeString('message', { description: 'What was ignored and why.' }),
  }),
});

const ImportAgentPayload = builder.objectRef<{ agentIds: string[]; warnings: { path: string; message: string }[] }>('ImportAgentPayload').implement({
  description: 'The result of importAgent.',
  fields: (t) => ({
    agentIds: t.exposeIDList('agentIds', { description: "The new agents, in the file's order." }),
    warnings: t.field({ type: [ImportWarning], description: 'What import ignored (e.g. group ids of groups the file does not hold); empty when nothing was.', resolve: (payload) => payload.warnings }),
    agents: t.field({ description: 'The new agents, in the file\'s order.',
      type: [Agent],
      resolve: (payload, _args, ctx) => Promise.all(payload.agentIds.map((id) => agents.getAgent(ctx.services, id))),
    }),
  }),
});

builder.queryFields((t) => ({
  exportAgent: t.field({
    type: 'JSON',
    description: "The agent as a Letta agent file (.af), with file-local ids; members of groups it manages come along.",
    complexity: HEAVY_FIELD_COST.exportAgent,
    args: {
      id: t.arg.id({ description: 'The agent.', validate: agentId }),
      scrubMessages: t.arg.boolean({ required: false, defaultValue: false, description: 'Leave the message history out.' }),
    },
    resolve: (_root, args, ctx) => exportAgents(ctx.services, [args.id], { scrubMessages: args.scrubMessages ?? false }),
  }),
  exportAgents: t.field({
    type: 'JSON',
    description: 'Several agents (e.g. agents sharing blocks) in one agent file; shared blocks appear once.',
    complexity: (args) => HEAVY_FIELD_COST.exportAgent * Math.max(1, args.ids.length),
    args: {
      ids: t.arg.idList({ description: 'The agents.' }),
      scrubMessages: t.arg.boolean({ description: 'Leave the message histories out.', required: false, defaultValue: false }),
    },
    resolve: (_root, args, ctx) => exportAgents(ctx.services, args.ids, { scrubMessages: args.scrubMessages ?? false }),
  }),
}));

builder.mutationFields((t) => ({
  importAgent: t.field({
    type: ImportAgentPayload,
    description: 'Imports a Letta agent file, sent as an upload (`file`) or as JSON (`json`, also a JSON string).',
    args: { input: t.arg({ type: ImportAgentInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: async (_root, { input: { file, json, ...options } }, ctx) => {
      if ((file == null) === (json == null)) {
        throw new AppError('BAD_USER_INPUT', 'input: give exactly one of `file` (an upload) or `json`', { path: 'input.file' });
      }
      // An upload's bytes go to the worker that reads the file, which decodes them (as file.text() would).
      const source = file != null ? new Uint8Array(await file.arrayBuffer()) : json;
      return importAgentFile(ctx.services, source, options);
    },
  }),
}));
