import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Prisma, type Tool } from '../../generated/prisma/client.js';
import { handleForImport } from '../../agent/llm/handles.js';
import { defaultSystemPrompt, type AgentType } from '../../agent/prompts.js';
import { newId } from '../../ids.js';
import { createAgentInput } from '../agents/agents.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, parseInput } from '../../errors.js';
import { isUniqueViolation } from '../../db/errors.js';
import { BLOCK_LIMIT_DEFAULT } from '../memory/blocks.js';
import { rebuildSystemPrompt } from '../memory/system-prompt.js';
import type { AgentFile, AgentFileAgent, AgentFileTool } from './format.js';
import { importMcpServers, mcpLinkOf, planMcpServers, recordImportedServerTools } from './mcp-servers.js';
import { rejectAgentFile, type Problem, type Warning } from './validate.js';

/**
 * Import: an agent file becomes new agents of the caller's organization. Everything is checked
 * first (validate.ts, then the options against the file); the writes then happen in one
 * transaction in Letta's order (tools, blocks, sources, files, agents, messages, file views,
 * groups), so a failure leaves nothing behind. Tools are matched by name; their source code is
 * stored and never run.
 */

const agentName = createAgentInput.shape.name.unwrap();

const importOptionsSchema = z.object({
  /** Update custom tools of the same name with the file's definition (built-in tools never change). */
  overrideExistingTools: z.boolean().default(true),
  /** Import the agents without their message history (a fresh system message is built). */
  stripMessages: z.boolean().default(false),
  /** New name of the agent; only for files that hold one agent. */
  name: agentName.nullish(),
  /** Appends "_copy" to every imported agent's name (Letta's deprecated default); `name` wins. */
  appendCopySuffix: z.boolean().default(false),
  model: createAgentInput.shape.model,
  embedding: createAgentInput.shape.embedding,
  /** Secret values for the agents' tools; the file carries only their names. */
  secrets: z.record(z.string().min(1), z.string()).nullish(),
});

/** Untrusted options as any surface receives them; null means the default. */
export type ImportOptions = Record<string, unknown>;
type Options = z.output<typeof importOptionsSchema>;

type Json = Record<string, unknown>;
const jsonOrNull = (value: unknown) => (value === null || value === undefined ? Prisma.DbNull : (value as Prisma.InputJsonValue));
const dateOr = (value: string | null | undefined, fallback: Date) => {
  const date = value ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : fallback;
};

function agentNames(file: AgentFile, options: Options): { names: string[]; problems: Problem[] } {
  const problems: Problem[] = [];
  if (options.name && file.agents.length > 1) {
    problems.push({ path: 'input.name', message: `renames the agent of a single-agent file; this file holds ${file.agents.length} agents` });
  }
  const names = file.agents.map((agent, index) => {
    const name = options.name ?? (options.appendCopySuffix ? `${agent.name}_copy` : agent.name);
    const checked = agentName.safeParse(name);
    if (!checked.success) {
      problems.push({ path: `agents.${index}.name`, message: `'${name.slice(0, 100)}' is not a valid agent name: ${checked.error.issues[0]!.message}; pass options.name` });
    }
    return checked.success ? checked.data : name;
  });
  return { names, problems };
}

/** The model handle an imported agent runs on: the option, else the file's handle or llm_config mapped to a provider here. */
function modelOf(agent: AgentFileAgent, options: Options, ctx: ServiceContext): string | null {
  if (options.model) return options.model;
  return handleForImport(agent.model, agent.llm_config, ctx.runtime.models) ?? ctx.runtime.defaultModel ?? null;
}

function llmConfigOf(agent: AgentFileAgent, options: Options): Json | null {
  if (!options.model) return agent.llm_config ?? null;
  const [provider, ...rest] = options.model.split('/');
  return { ...(agent.llm_config ?? {}), handle: options.model, model: rest.join('/'), provider_name: provider };
}

function embeddingConfigOf(config: Json | null | undefined, override: string | null | undefined): Json | null {
  if (!override) return config ?? null;
  const [provider, ...rest] = override.split('/');
  return { ...(config ?? {}), handle: override, embedding_model: rest.join('/'), embedding_endpoint_type: provider };
}

function toolJsonSchema(tool: AgentFileTool): Json {
  return tool.json_schema ?? { name: tool.name, description: tool.description ?? '', parameters: { type: 'object', properties: {}, required: [] } };
}

function toolFields(tool: AgentFileTool) {
  return {
    description: tool.description ?? null,
    sourceType: tool.source_type ?? null,
    sourceCode: tool.source_code ?? null,
    jsonSchema: toolJsonSchema(tool) as Prisma.InputJsonValue,
    argsJsonSchema: jsonOrNull(tool.args_json_schema),
    tags: tool.tags ?? [],
    returnCharLimit: tool.return_char_limit ?? 50_000,
    pipRequirements: jsonOrNull(tool.pip_requirements),
    npmRequirements: jsonOrNull(tool.npm_requirements),
    defaultRequiresApproval: tool.default_requires_approval ?? false,
    enableParallelExecution: tool.enable_parallel_execution ?? false,
    metadata: jsonOrNull(tool.metadata_),
  };
}

/** Step 2 of Letta's order: tools by name; built-in and core tools are never overwritten. */
async function importTools(
  tx: Prisma.TransactionClient,
  ctx: ServiceContext,
  file: AgentFile,
  options: Options,
  servers: Map<string, { id: string; name: string }>,
): Promise<Map<string, Tool>> {
  const tools = file.tools ?? [];
  const existing = await tx.tool.findMany({ where: { organizationId: ctx.orgId, name: { in: tools.map((tool) => tool.name) } } });
  const byName = new Map(existing.map((tool) => [tool.name, tool]));
  const result = new Map<string, Tool>();
  for (const tool of tools) {
    const found = byName.get(tool.name);
    if (found && (found.toolType !== 'custom' || !options.overrideExistingTools)) {
      result.set(tool.id, found);
    } else if (found) {
      result.set(tool.id, await tx.tool.update({ where: { id: found.id }, data: toolFields(tool) }));
    } else {
      // An MCP tool is linked to its server (registered in step 1, or already here).
      const link = await mcpLinkOf(tx, ctx, tool, servers);
      const created = await tx.tool.create({
        data: { id: newId('Tool'), organizationId: ctx.orgId, name: tool.name, toolType: tool.tool_type ?? 'custom', ...toolFields(tool), ...(link ?? {}) },
      });
      result.set(tool.id, created);
    }
  }
  return result;
}

/** Step 4: a source whose name is taken gets Letta's `_<8 hex>` suffix. */
async function folderNames(tx: Prisma.TransactionClient, ctx: ServiceContext, file: AgentFile): Promise<string[]> {
  const wanted = (file.sources ?? []).map((source) => source.name);
  const taken = new Set(
    (await tx.folder.findMany({ where: { organizationId: ctx.orgId, name: { in: wanted } }, select: { name: true } })).map((folder) => folder.name),
  );
  return wanted.map((name) => {
    let chosen = name;
    while (taken.has(chosen)) chosen = `${name}_${randomBytes(4).toString('hex')}`;
    taken.add(chosen);
    return chosen;
  });
}

function messageRowsOf(ctx: ServiceContext, agent: AgentFileAgent, agentId: string, messageIds: Map<string, string>, groupIds: Map<string, string>, now: Date) {
  return (agent.messages ?? []).map((message) => ({
    id: messageIds.get(message.id)!,
    organizationId: ctx.orgId,
    agentId,
    role: message.role,
    content: jsonOrNull(message.content),
    name: message.name ?? null,
    toolCalls: jsonOrNull(message.tool_calls),
    toolCallId: message.tool_call_id ?? null,
    toolReturns: jsonOrNull(message.tool_returns?.length ? message.tool_returns : null),
    approvals: jsonOrNull(message.approvals?.length ? message.approvals : null),
    approve: message.approve ?? null,
    approvalRequestId: message.approval_request_id ? (messageIds.get(message.approval_request_id) ?? message.approval_request_id) : null,
    denialReason: message.denial_reason ?? null,
    isErr: message.is_err ?? false,
    model: message.model ?? null,
    // A group of the file gets its new id; any other (the id of a group on the server that wrote the file) is kept as it is.
    groupId: message.group_id ? (groupIds.get(message.group_id) ?? message.group_id) : null,
    createdAt: dateOr(message.created_at, now),
  }));
}

/**
 * Two imports at once can both find a tool or folder name free and then collide on it; the
 * loser's transaction is rolled back whole and simply tried again (it then sees the winner's rows).
 */
async function withRetryOnConflict<T>(attempt: () => Promise<T>, attempts = 3): Promise<T> {
  for (let left = attempts; ; left--) {
    try {
      return await attempt();
    } catch (error) {
      if (!isUniqueViolation(error) || left <= 1) throw error;
    }
  }
}

export interface ImportResult {
  /** The new agents, in the file's order. */
  agentIds: string[];
  /** What the file held that import ignored, as Letta does. */
  warnings: Warning[];
}

/** Skills of the file, the first of each name, with the keys this server does not know kept aside. */
function skillRows(file: AgentFile, agentId: string) {
  const seen = new Set<string>();
  return (file.skills ?? []).flatMap((skill, position) => {
    if (seen.has(skill.name)) return [];
    seen.add(skill.name);
    const { name, files, source_url: sourceUrl, ...extra } = skill;
    return [{ agentId, name, files: jsonOrNull(files), sourceUrl: sourceUrl ?? null, extra: Object.keys(extra).length ? (extra as Prisma.InputJsonValue) : Prisma.DbNull, position }];
  });
}

/** Parsing and checking a (possibly large) file is CPU-bound: it runs in the worker pool. */
async function readInWorker(ctx: ServiceContext, source: unknown): Promise<{ file: AgentFile; warnings: Warning[] }> {
  const read = await ctx.runtime.pool.run('agentFile.read', source);
  if (!read.ok) throw new AppError(read.code, read.message, read.extensions);
  return { file: read.file, warnings: read.warnings };
}

/**
 * Imports an agent file (its text, its JSON, or a JSON string holding it). The file's skills
 * belong to its first agent (the one Letta Code exported; group members follow it).
 */
export async function importAgentFile(ctx: ServiceContext, source: unknown, rawOptions: ImportOptions = {}): Promise<ImportResult> {
  const given = Object.fromEntries(Object.entries(rawOptions ?? {}).filter(([, value]) => value !== null));
  const options = parseInput(importOptionsSchema, given, 'input');
  const { file, warnings } = await readInWorker(ctx, source);
  const { names, problems } = agentNames(file, options);
  const mcp = await planMcpServers(ctx, file);
  problems.push(...mcp.problems);
  if (problems.length) rejectAgentFile(problems);

  const now = new Date();
  const agentIds = new Map(file.agents.map((agent) => [agent.id, newId('Agent')]));
  const blockIds = new Map((file.blocks ?? []).map((block) => [block.id, newId('Block')]));
  const folderIds = new Map((file.sources ?? []).map((source) => [source.id, newId('Folder')]));
  const fileIds = new Map((file.files ?? []).map((entry) => [entry.id, newId('File')]));
  const groupIds = new Map((file.groups ?? []).map((group) => [group.id, newId('Group')]));
  const messageIds = new Map(file.agents.flatMap((agent) => (options.stripMessages ? [] : (agent.messages ?? [])).map((message) => [message.id, newId('Message')] as const)));

  await withRetryOnConflict(() => ctx.prisma.$transaction(
    async (tx) => {
      const servers = await importMcpServers(tx, ctx, mcp.planned);
      const tools = await importTools(tx, ctx, file, options, servers);
      await recordImportedServerTools(tx, [...servers.values()].map((server) => server.id));

      const blocks = file.blocks ?? [];
      if (blocks.length) {
        await tx.block.createMany({
          data: blocks.map((block) => ({
            id: blockIds.get(block.id)!,
            organizationId: ctx.orgId,
            label: block.label,
            value: block.value ?? '',
            limit: block.limit ?? BLOCK_LIMIT_DEFAULT,
            description: block.description ?? null,
            readOnly: block.read_only ?? false,
            isTemplate: block.is_template ?? false,
            templateName: block.template_name ?? null,
            hidden: block.hidden ?? false,
            metadata: jsonOrNull(block.metadata),
            tags: block.tags ?? [],
          })),
        });
      }

      const sources = file.sources ?? [];
      const sourceNames = await folderNames(tx, ctx, file);
      if (sources.length) {
        await tx.folder.createMany({
          data: sources.map((source, index) => ({
            id: folderIds.get(source.id)!,
            organizationId: ctx.orgId,
            name: sourceNames[index]!,
            description: source.description ?? null,
            instructions: source.instructions ?? null,
            metadata: jsonOrNull(source.metadata),
            embedding: options.embedding ?? source.embedding ?? null,
            embeddingConfig: jsonOrNull(embeddingConfigOf(source.embedding_config, options.embedding)),
          })),
        });
      }

      const files = file.files ?? [];
      if (files.length) {
        await tx.file.createMany({
          data: files.map((entry) => ({
            id: fileIds.get(entry.id)!,
            organizationId: ctx.orgId,
            folderId: folderIds.get(entry.source_id)!,
            fileName: entry.file_name,
            originalFileName: entry.original_file_name ?? entry.file_name.split('/').pop()!,
            filePath: entry.file_path ?? null,
            fileType: entry.file_type ?? null,
            fileSize: entry.file_size ?? null,
            fileCreationDate: entry.file_creation_date ? dateOr(entry.file_creation_date, now) : null,
            fileLastModifiedDate: entry.file_last_modified_date ? dateOr(entry.file_last_modified_date, now) : null,
            // Chunks and embeddings are not in the file: they are rebuilt in the background.
            processingStatus: 'pending',
            content: entry.content ?? null,
          })),
        });
      }

      for (const [index, agent] of file.agents.entries()) {
        const id = agentIds.get(agent.id)!;
        const agentType = (agent.agent_type ?? 'letta_v1_agent') as AgentType;
        const rules = (agent.tool_rules ?? []) as Json[];
        const approvalNames = new Set(rules.filter((rule) => rule?.type === 'requires_approval').map((rule) => rule.tool_name));
        // Secret values are never stored (nothing here runs tools that read them): only their
        // names, so that an export lists what the agent's tools expect.
        const secretNames = Object.keys({ ...(agent.secrets ?? agent.tool_exec_environment_variables ?? {}), ...(options.secrets ?? {}) });
        const secrets = Object.fromEntries(secretNames.map((name) => [name, '']));
        const inContext = options.stripMessages ? [] : (agent.in_context_message_ids ?? []).map((local) => messageIds.get(local)!);
        await tx.agent.create({
          data: {
            id,
            organizationId: ctx.orgId,
            name: names[index]!,
            description: agent.description ?? null,
            system: agent.system ?? defaultSystemPrompt(agentType),
            agentType,
            tags: [...new Set(agent.tags ?? [])],
            metadata: jsonOrNull(agent.metadata),
            model: modelOf(agent, options, ctx),
            llmConfig: jsonOrNull(llmConfigOf(agent, options)),
            modelSettings: jsonOrNull(agent.model_settings),
            embedding: options.embedding ?? agent.embedding ?? null,
            embeddingConfig: jsonOrNull(embeddingConfigOf(agent.embedding_config, options.embedding)),
            compactionSettings: jsonOrNull(agent.compaction_settings),
            responseFormat: jsonOrNull(agent.response_format),
            toolRules: rules as Prisma.InputJsonValue,
            secrets: Object.keys(secrets).length ? (secrets as Prisma.InputJsonValue) : Prisma.DbNull,
            timezone: agent.timezone ?? 'UTC',
            messageIds: inContext,
            messageBufferAutoclear: agent.message_buffer_autoclear ?? false,
            maxFilesOpen: agent.max_files_open ?? null,
            perFileViewWindowCharLimit: agent.per_file_view_window_char_limit ?? null,
          },
        });

        // A block listed by several agents is one row: shared memory stays shared.
        const agentBlocks = [...new Set(agent.block_ids ?? [])].map((local) => file.blocks!.find((block) => block.id === local)!);
        if (agentBlocks.length) {
          await tx.blockAgent.createMany({ data: agentBlocks.map((block) => ({ agentId: id, blockId: blockIds.get(block.id)!, blockLabel: block.label })) });
        }
        const agentTools = [...new Set((agent.tool_ids ?? []).map((local) => tools.get(local)!))];
        if (agentTools.length) {
          await tx.toolAgent.createMany({
            data: agentTools.map((tool) => ({ agentId: id, toolId: tool.id, requiresApproval: tool.defaultRequiresApproval || approvalNames.has(tool.name) })),
            skipDuplicates: true,
          });
        }
        const agentFolders = [...new Set([...(agent.source_ids ?? []), ...(agent.folder_ids ?? [])])];
        if (agentFolders.length) {
          await tx.folderAgent.createMany({ data: agentFolders.map((local) => ({ agentId: id, folderId: folderIds.get(local)! })) });
        }

        if (!options.stripMessages) {
          // One statement per message, in file order, so that sequence ids follow the history.
          for (const row of messageRowsOf(ctx, agent, id, messageIds, groupIds, now)) await tx.message.create({ data: row });
        }

        const views = agent.files_agents ?? [];
        if (views.length) {
          await tx.fileAgent.createMany({
            data: views.map((view) => ({
              id: newId('FileAgent'),
              organizationId: ctx.orgId,
              agentId: id,
              fileId: fileIds.get(view.file_id)!,
              folderId: folderIds.get(view.source_id)!,
              fileName: view.file_name,
              isOpen: view.is_open ?? true,
              visibleContent: view.visible_content ?? null,
              lastAccessedAt: dateOr(view.last_accessed_at, now),
              startLine: view.start_line ?? null,
              endLine: view.end_line ?? null,
            })),
          });
        }
      }

      for (const group of file.groups ?? []) {
        const { manager_type: managerType, manager_agent_id: managerAgent, ...managerConfig } = group.manager_config ?? { manager_type: 'round_robin' };
        const id = groupIds.get(group.id)!;
        await tx.group.create({
          data: {
            id,
            organizationId: ctx.orgId,
            managerType,
            description: group.description ?? '',
            managerAgentId: typeof managerAgent === 'string' ? agentIds.get(managerAgent)! : null,
            managerConfig: Object.keys(managerConfig).length ? (managerConfig as Prisma.InputJsonValue) : Prisma.DbNull,
            sharedBlockIds: (group.shared_block_ids ?? []).map((local) => blockIds.get(local)!),
            hidden: group.hidden ?? null,
          },
        });
        if (group.agent_ids.length) {
          await tx.groupAgent.createMany({
            data: [...new Set(group.agent_ids)].map((local, position) => ({ groupId: id, agentId: agentIds.get(local)!, position })),
          });
        }
      }

      const skills = skillRows(file, agentIds.get(file.agents[0]!.id)!);
      if (skills.length) await tx.skill.createMany({ data: skills });

      // The stored prompt is compiled from the imported template and blocks, with the new ids.
      for (const id of agentIds.values()) await rebuildSystemPrompt(tx, id);
    },
    { timeout: 120_000, maxWait: 30_000 },
  ));

  // Imported files arrive with their content and status `pending`: chunked and embedded again like uploads.
  for (const fileId of fileIds.values()) ctx.runtime.fileJobs.enqueue(fileId);
  ctx.logger.info({ agentIds: [...agentIds.values()], tools: file.tools?.length ?? 0, blocks: file.blocks?.length ?? 0, messages: messageIds.size }, 'agent file imported');
  return { agentIds: [...agentIds.values()], warnings };
}
