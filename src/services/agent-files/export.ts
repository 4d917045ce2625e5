import type { McpServer, Prisma } from '../../generated/prisma/client.js';
import type { ServiceContext } from '../platform/context.js';
import { AppError, assertId, badInput, notFound } from '../../errors.js';
import { MAX_AGENTS_PER_FILE } from './format.js';
import { exportMcpServer, exportedToolMetadata } from './mcp-servers.js';

/**
 * Export: one or more agents as Letta's multi-entity agent file. Database ids become file-local
 * ids (`agent-0`, `block-0`, ...) counted per type, and every reference is remapped. Agents are
 * exported with their whole message history (Letta exports only the in-context messages; the
 * importer of both servers accepts either) and the members of the groups they manage.
 */

const AGENT_FILE_FORMAT_VERSION = 'agentgraph-1';

/** Letta's GLOBAL_MAX_CONTEXT_WINDOW_LIMIT, written when an agent has no stored llm_config. */
const DEFAULT_CONTEXT_WINDOW = 128_000;

type Json = Record<string, unknown>;

const agentInclude = {
  blocks: { include: { block: true }, orderBy: { blockLabel: 'asc' } },
  tools: { include: { tool: { include: { mcpServer: true } } } },
  // A file's text is read apart, as a plain column: inside the relation join it came back in a JSON
  // aggregate that Prisma parsed in one block (53 ms for 6 MiB). Its upload's bytes never travel.
  folders: { include: { folder: { include: { files: { orderBy: { fileName: 'asc' }, omit: { content: true, rawBytes: true } } } } } },
  files: { orderBy: { fileName: 'asc' } },
  managedGroups: { include: { agents: { orderBy: [{ position: 'asc' }, { agentId: 'asc' }] } }, orderBy: { createdAt: 'asc' } },
  skills: { orderBy: [{ position: 'asc' }, { name: 'asc' }] },
} satisfies Prisma.AgentInclude;

type ExportedAgent = Prisma.AgentGetPayload<{ include: typeof agentInclude }>;

/** Assigns file-local ids per type, in the order entities are first met. */
class IdMap {
  private readonly ids = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  add(prefix: string, dbId: string): string {
    const existing = this.ids.get(dbId);
    if (existing) return existing;
    const n = this.counts.get(prefix) ?? 0;
    this.counts.set(prefix, n + 1);
    const local = `${prefix}-${n}`;
    this.ids.set(dbId, local);
    return local;
  }

  /** A reference must point at something exported; anything else is a bug, not bad input. */
  get(dbId: string, what: string): string {
    const local = this.ids.get(dbId);
    if (!local) throw new AppError('INTERNAL', `Agent export could not map ${what} id ${dbId}`);
    return local;
  }

  has(dbId: string): boolean {
    return this.ids.has(dbId);
  }
}

const iso = (value: Date | null | undefined) => (value ? value.toISOString() : null);

/** Loads the agents and the members of the groups they manage, in a stable order. */
async function loadAgents(ctx: ServiceContext, ids: string[]): Promise<ExportedAgent[]> {
  const order: string[] = [];
  const loaded = new Map<string, ExportedAgent>();
  let wanted = [...new Set(ids)];
  while (wanted.length) {
    const rows = await ctx.prisma.agent.findMany({ where: { id: { in: wanted }, organizationId: ctx.orgId }, include: agentInclude });
    for (const id of wanted) {
      const row = rows.find((agent) => agent.id === id);
      if (!row) throw notFound('Agent', id);
      loaded.set(id, row);
      order.push(id);
    }
    wanted = [...new Set(rows.flatMap((agent) => agent.managedGroups.flatMap((group) => group.agents.map((member) => member.agentId))))].filter(
      (id) => !loaded.has(id),
    );
  }
  return order.map((id) => loaded.get(id)!);
}

/** Letta needs an llm_config; agents created here may only have a handle. */
function llmConfigOf(agent: ExportedAgent): Json | null {
  if (agent.llmConfig && typeof agent.llmConfig === 'object') return agent.llmConfig as Json;
  if (!agent.model) return null;
  const [provider, ...rest] = agent.model.split('/');
  return {
    model: rest.join('/'),
    model_endpoint_type: provider === 'anthropic' ? 'anthropic' : 'openai',
    provider_name: provider,
    context_window: DEFAULT_CONTEXT_WINDOW,
    handle: agent.model,
    put_inner_thoughts_in_kwargs: false,
  };
}

function embeddingConfigOf(agent: ExportedAgent): Json | null {
  if (agent.embeddingConfig && typeof agent.embeddingConfig === 'object') return agent.embeddingConfig as Json;
  if (!agent.embedding) return null;
  const [provider, ...rest] = agent.embedding.split('/');
  return { embedding_endpoint_type: provider, embedding_model: rest.join('/'), handle: agent.embedding, embedding_chunk_size: 300 };
}

/** Secret names travel, values never do (Letta blanks them too). */
function scrubbedSecrets(secrets: unknown): Record<string, string> | null {
  if (!secrets || typeof secrets !== 'object' || Array.isArray(secrets)) return null;
  return Object.fromEntries(Object.keys(secrets).map((key) => [key, '']));
}

/** Per-agent approvals travel as Letta's `requires_approval` tool rules. */
function toolRulesOf(agent: ExportedAgent): unknown[] {
  const rules = Array.isArray(agent.toolRules) ? [...(agent.toolRules as Json[])] : [];
  const named = new Set(rules.filter((rule) => rule?.type === 'requires_approval').map((rule) => rule.tool_name));
  for (const link of [...agent.tools].sort((a, b) => a.tool.name.localeCompare(b.tool.name))) {
    if (link.requiresApproval && !named.has(link.tool.name)) rules.push({ type: 'requires_approval', tool_name: link.tool.name, prompt_template: null });
  }
  return rules;
}

function messageEntry(row: Prisma.MessageGetPayload<object>, ids: IdMap, agentLocalId: string): Json {
  return {
    type: 'message',
    role: row.role,
    content: row.content ?? null,
    name: row.name,
    otid: null,
    sender_id: null,
    batch_item_id: null,
    // A group exported with the agent gets its file-local id; any other keeps its server id, as Letta writes it.
    group_id: row.groupId && ids.has(row.groupId) ? ids.get(row.groupId, 'group') : row.groupId,
    id: ids.get(row.id, 'message'),
    model: row.model,
    agent_id: agentLocalId,
    tool_calls: row.toolCalls ?? null,
    tool_call_id: row.toolCallId,
    tool_returns: row.toolReturns ?? [],
    created_at: iso(row.createdAt),
    approve: row.approve,
    approval_request_id: row.approvalRequestId,
    denial_reason: row.denialReason,
    approvals: row.approvals ?? [],
    is_err: row.isErr,
  };
}

/** The skills of the exported agents, the first of each name, as Letta's entries. */
function skillsOf(agents: ExportedAgent[]): Json[] {
  const byName = new Map<string, Json>();
  for (const skill of agents.flatMap((agent) => agent.skills)) {
    if (byName.has(skill.name)) continue;
    byName.set(skill.name, { ...((skill.extra as Json | null) ?? {}), name: skill.name, files: skill.files ?? null, source_url: skill.sourceUrl });
  }
  return [...byName.values()];
}

/** Messages read per statement: turning thousands of rows into objects at once held the event loop for tens of milliseconds. */
const MESSAGE_PAGE = 250;

/** An agent's whole history in order, a page at a time. */
async function messagesOf(ctx: ServiceContext, agentId: string): Promise<Prisma.MessageGetPayload<object>[]> {
  const rows: Prisma.MessageGetPayload<object>[] = [];
  for (;;) {
    const after = rows.at(-1)?.sequenceId;
    const page = await ctx.prisma.message.findMany({
      where: { agentId, ...(after === undefined ? {} : { sequenceId: { gt: after } }) },
      orderBy: { sequenceId: 'asc' },
      take: MESSAGE_PAGE,
    });
    rows.push(...page);
    if (page.length < MESSAGE_PAGE) return rows;
  }
}

export interface ExportOptions {
  /** Leaves the message history out (the system message is rebuilt on import). */
  scrubMessages?: boolean;
}

/** The agent file of some agents of the caller's organization (and of the groups they manage). */
export async function exportAgents(ctx: ServiceContext, agentIds: string[], options: ExportOptions = {}): Promise<Json> {
  if (agentIds.length === 0) throw badInput('ids', 'name at least one agent');
  if (agentIds.length > MAX_AGENTS_PER_FILE) throw badInput('ids', `at most ${MAX_AGENTS_PER_FILE} agents per export`);
  agentIds.forEach((id, index) => assertId('Agent', id, agentIds.length === 1 ? 'id' : `ids.${index}`));
  const agents = await loadAgents(ctx, agentIds);
  if (agents.length > MAX_AGENTS_PER_FILE) {
    throw badInput('ids', `with the members of their groups these are ${agents.length} agents; an agent file holds at most ${MAX_AGENTS_PER_FILE}`);
  }
  const ids = new IdMap();

  // Ids are assigned in a content order (labels, names) so that two exports of equal agents match.
  agents.forEach((agent) => ids.add('agent', agent.id));
  const blocks = new Map<string, ExportedAgent['blocks'][number]['block']>();
  const tools = new Map<string, ExportedAgent['tools'][number]['tool']>();
  const folders = new Map<string, ExportedAgent['folders'][number]['folder']>();
  for (const agent of agents) {
    for (const { block } of agent.blocks) if (!blocks.has(block.id)) blocks.set(block.id, block), ids.add('block', block.id);
  }
  for (const agent of agents) {
    for (const { tool } of [...agent.tools].sort((a, b) => a.tool.name.localeCompare(b.tool.name))) {
      if (!tools.has(tool.id)) tools.set(tool.id, tool), ids.add('tool', tool.id);
    }
  }
  // MCP servers of the exported tools (Letta: extracted from the tools, before their conversion).
  const mcpServers = new Map<string, McpServer>();
  for (const tool of tools.values()) {
    if (tool.mcpServer && !mcpServers.has(tool.mcpServer.id)) mcpServers.set(tool.mcpServer.id, tool.mcpServer), ids.add('mcp_server', tool.mcpServer.id);
  }
  for (const agent of agents) {
    for (const { folder } of [...agent.folders].sort((a, b) => a.folder.name.localeCompare(b.folder.name))) {
      if (!folders.has(folder.id)) folders.set(folder.id, folder), ids.add('source', folder.id);
    }
  }
  const files = [...folders.values()].flatMap((folder) => folder.files);
  files.forEach((file) => ids.add('file', file.id));
  const contents = new Map<string, string | null>();
  for (const file of files) contents.set(file.id, (await ctx.prisma.file.findUnique({ where: { id: file.id }, select: { content: true } }))?.content ?? null);
  // Views of files in folders the agent no longer has are not exported: their file is not in the document.
  const exportedFiles = new Set(files.map((file) => file.id));

  const groups = agents.flatMap((agent) => agent.managedGroups);
  groups.forEach((group) => ids.add('group', group.id));

  const messagesByAgent = new Map<string, Prisma.MessageGetPayload<object>[]>();
  for (const agent of agents) {
    const rows = options.scrubMessages ? [] : await messagesOf(ctx, agent.id);
    rows.forEach((row) => ids.add('message', row.id));
    messagesByAgent.set(agent.id, rows);
  }

  const agentEntries = agents.map((agent) => {
    const localId = ids.get(agent.id, 'agent');
    const rows = messagesByAgent.get(agent.id)!;
    const inContext = options.scrubMessages ? [] : agent.messageIds.filter((id) => ids.has(id)).map((id) => ids.get(id, 'message'));
    const views = agent.files.filter((view) => exportedFiles.has(view.fileId));
    const llmConfig = llmConfigOf(agent);
    const secrets = scrubbedSecrets(agent.secrets);
    return {
      id: localId,
      name: agent.name,
      agent_type: agent.agentType,
      system: agent.system,
      description: agent.description,
      tags: agent.tags,
      metadata: agent.metadata ?? null,
      llm_config: llmConfig,
      embedding_config: embeddingConfigOf(agent),
      model: agent.model,
      embedding: agent.embedding,
      model_settings: agent.modelSettings ?? null,
      compaction_settings: agent.compactionSettings ?? null,
      response_format: agent.responseFormat ?? null,
      tool_rules: toolRulesOf(agent),
      secrets,
      tool_exec_environment_variables: secrets ?? {},
      timezone: agent.timezone,
      message_buffer_autoclear: agent.messageBufferAutoclear,
      max_files_open: agent.maxFilesOpen,
      per_file_view_window_char_limit: agent.perFileViewWindowCharLimit,
      // CreateAgent fields Letta expects; blocks and tools travel by id, not inline.
      memory_blocks: [],
      tools: [],
      include_base_tools: false,
      include_multi_agent_tools: false,
      include_base_tool_rules: false,
      include_default_source: false,
      initial_message_sequence: null,
      enable_sleeptime: false,
      context_window_limit: typeof llmConfig?.context_window === 'number' ? llmConfig.context_window : null,
      identity_ids: [],
      tool_ids: [...agent.tools].sort((a, b) => a.tool.name.localeCompare(b.tool.name)).map((link) => ids.get(link.toolId, 'tool')),
      block_ids: agent.blocks.map((link) => ids.get(link.blockId, 'block')),
      source_ids: [...agent.folders].sort((a, b) => a.folder.name.localeCompare(b.folder.name)).map((link) => ids.get(link.folderId, 'source')),
      group_ids: agent.managedGroups.map((group) => ids.get(group.id, 'group')),
      in_context_message_ids: inContext,
      messages: rows.map((row) => messageEntry(row, ids, localId)),
      files_agents: views.map((view, index) => ({
        id: `file_agent-${index}`,
        agent_id: localId,
        file_id: ids.get(view.fileId, 'file'),
        source_id: ids.get(view.folderId, 'source'),
        file_name: view.fileName,
        is_open: view.isOpen,
        visible_content: view.visibleContent,
        last_accessed_at: iso(view.lastAccessedAt),
        start_line: view.startLine,
        end_line: view.endLine,
      })),
    };
  });

  return {
    agents: agentEntries,
    groups: groups.map((group) => ({
      id: ids.get(group.id, 'group'),
      agent_ids: group.agents.map((member) => ids.get(member.agentId, 'agent')),
      description: group.description,
      manager_config: {
        ...((group.managerConfig as Json | null) ?? {}),
        manager_type: group.managerType,
        ...(group.managerAgentId ? { manager_agent_id: ids.get(group.managerAgentId, 'agent') } : {}),
      },
      shared_block_ids: group.sharedBlockIds.filter((id) => ids.has(id)).map((id) => ids.get(id, 'block')),
      hidden: group.hidden,
      project_id: null,
    })),
    blocks: [...blocks.values()].map((block) => ({
      id: ids.get(block.id, 'block'),
      label: block.label,
      value: block.value,
      limit: block.limit,
      description: block.description,
      read_only: block.readOnly,
      is_template: block.isTemplate,
      template_name: block.templateName,
      hidden: block.hidden,
      metadata: block.metadata ?? {},
      tags: block.tags,
      preserve_on_migration: false,
      project_id: null,
    })),
    files: files.map((file) => ({
      id: ids.get(file.id, 'file'),
      source_id: ids.get(file.folderId, 'source'),
      file_name: file.fileName,
      original_file_name: file.originalFileName,
      file_path: file.filePath,
      file_type: file.fileType,
      file_size: file.fileSize,
      file_creation_date: iso(file.fileCreationDate),
      file_last_modified_date: iso(file.fileLastModifiedDate),
      processing_status: file.processingStatus,
      error_message: file.errorMessage,
      total_chunks: file.totalChunks,
      chunks_embedded: file.chunksEmbedded,
      content: contents.get(file.id) ?? null,
    })),
    sources: [...folders.values()].map((folder) => ({
      id: ids.get(folder.id, 'source'),
      name: folder.name,
      description: folder.description,
      instructions: folder.instructions,
      metadata: folder.metadata ?? null,
      embedding: folder.embedding,
      embedding_config: folder.embeddingConfig ?? null,
    })),
    tools: [...tools.values()].map((tool) => ({
      id: ids.get(tool.id, 'tool'),
      name: tool.name,
      tool_type: tool.toolType,
      description: tool.description,
      // Letta knows python, typescript and json sources; our built-ins are Letta's python ones.
      source_type: tool.sourceType === 'builtin' || !tool.sourceType ? 'python' : tool.sourceType,
      source_code: tool.sourceCode,
      json_schema: tool.jsonSchema,
      args_json_schema: tool.argsJsonSchema ?? null,
      tags: tool.tags,
      return_char_limit: tool.returnCharLimit,
      pip_requirements: tool.pipRequirements ?? null,
      npm_requirements: tool.npmRequirements ?? null,
      default_requires_approval: tool.defaultRequiresApproval,
      enable_parallel_execution: tool.enableParallelExecution,
      metadata_: exportedToolMetadata(tool, tool.mcpServer ? ids.get(tool.mcpServer.id, 'mcp_server') : undefined, tool.mcpServer?.name),
    })),
    mcp_servers: [...mcpServers.values()].map((server) => exportMcpServer(server, ids.get(server.id, 'mcp_server'))),
    skills: skillsOf(agents),
    metadata: { revision_id: AGENT_FILE_FORMAT_VERSION },
    created_at: new Date().toISOString(),
  };
}
