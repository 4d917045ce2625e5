import { z } from 'zod';
import { TOOL_TYPES } from '../../agent/tools/builtin.js';
import { createAgentInput } from '../agents/agents.js';
import { createBlockInput } from '../memory/blocks.js';
import { createToolInput } from '../tools/tools.js';

/**
 * Letta's multi-entity agent file (`AgentFileSchema`, letta/schemas/agent_file.py), as written by
 * Letta servers and by our export. Keys stay snake_case. Unknown keys are kept (Letta adds fields
 * from release to release); only what import needs is checked here, references are checked in
 * validate.ts.
 */

const json = z.record(z.string(), z.unknown());
/** Integer columns are int4. */
const int32 = z.number().int().min(-2_147_483_648).max(2_147_483_647);
const count = z.number().int().min(0).max(2_147_483_647);
const str = z.string().nullish();
const strList = z.array(z.string()).nullish();
const date = z.string().nullish();

/** A file-local id: `<prefix>-<n>`; ids of views and messages only need the prefix. */
const fileLocalId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-\\d+$`), `must be a file-local id '${prefix}-<n>'`);
const prefixedId = (prefix: string) => z.string().startsWith(`${prefix}-`, `must start with '${prefix}-'`);

export const messageSchema = z.looseObject({
  id: prefixedId('message'),
  role: z.enum(['system', 'user', 'assistant', 'tool', 'approval', 'summary']),
  content: z.array(z.looseObject({ type: z.string() })).nullish(),
  name: str,
  tool_calls: z.array(json).nullish(),
  tool_call_id: str,
  tool_returns: z.array(json).nullish(),
  model: str,
  created_at: date,
  approval_request_id: str,
  approve: z.boolean().nullish(),
  denial_reason: str,
  approvals: z.array(json).nullish(),
  is_err: z.boolean().nullish(),
  group_id: str,
});

export const fileAgentSchema = z.looseObject({
  id: prefixedId('file_agent'),
  agent_id: z.string(),
  file_id: z.string(),
  source_id: z.string(),
  file_name: z.string(),
  is_open: z.boolean().nullish(),
  visible_content: str,
  last_accessed_at: date,
  start_line: int32.nullish(),
  end_line: int32.nullish(),
});

export const agentSchema = z.looseObject({
  id: fileLocalId('agent'),
  name: z.string().min(1, 'must not be empty'),
  agent_type: str,
  system: str,
  description: str,
  tags: strList,
  metadata: json.nullish(),
  llm_config: json.nullish(),
  embedding_config: json.nullish(),
  // What an imported agent runs on is held to the rules of createAgent.
  model: createAgentInput.shape.model,
  embedding: createAgentInput.shape.embedding,
  model_settings: json.nullish(),
  compaction_settings: json.nullish(),
  response_format: json.nullish(),
  tool_rules: z.array(z.unknown()).nullish(),
  secrets: z.record(z.string(), z.unknown()).nullish(),
  tool_exec_environment_variables: z.record(z.string(), z.unknown()).nullish(),
  timezone: createAgentInput.shape.timezone.nullable(),
  message_buffer_autoclear: z.boolean().nullish(),
  max_files_open: createAgentInput.shape.maxFilesOpen,
  per_file_view_window_char_limit: createAgentInput.shape.perFileViewWindowCharLimit,
  tool_ids: strList,
  block_ids: strList,
  source_ids: strList,
  folder_ids: strList,
  group_ids: strList,
  in_context_message_ids: strList,
  messages: z.array(messageSchema).nullish(),
  files_agents: z.array(fileAgentSchema).nullish(),
});

export const blockSchema = z.looseObject({
  id: fileLocalId('block'),
  // Labels and limits follow createBlock: the label becomes a tag of the system prompt.
  label: createBlockInput.shape.label,
  value: z.string().nullish(),
  limit: createBlockInput.shape.limit,
  description: str,
  read_only: z.boolean().nullish(),
  is_template: z.boolean().nullish(),
  template_name: str,
  hidden: z.boolean().nullish(),
  metadata: json.nullish(),
  tags: strList,
});

export const toolSchema = z.looseObject({
  id: fileLocalId('tool'),
  // Names and parameters follow createTool: the model is sent both.
  name: createToolInput.shape.name,
  tool_type: z.enum(TOOL_TYPES, { error: (issue) => `unknown tool type ${JSON.stringify(issue.input)}; expected one of ${TOOL_TYPES.join(', ')}` }).nullish(),
  description: str,
  source_type: str,
  source_code: str,
  json_schema: z.looseObject({ parameters: createToolInput.shape.parameters }).nullish(),
  args_json_schema: json.nullish(),
  tags: strList,
  return_char_limit: z.number().int().min(1).max(1_000_000).nullish(),
  pip_requirements: z.array(z.unknown()).nullish(),
  npm_requirements: z.array(z.unknown()).nullish(),
  default_requires_approval: z.boolean().nullish(),
  enable_parallel_execution: z.boolean().nullish(),
  metadata_: json.nullish(),
});

export const sourceSchema = z.looseObject({
  id: fileLocalId('source'),
  name: z.string().min(1, 'must not be empty'),
  description: str,
  instructions: str,
  metadata: json.nullish(),
  embedding: str,
  embedding_config: json.nullish(),
});

export const fileSchema = z.looseObject({
  id: fileLocalId('file'),
  source_id: z.string(),
  file_name: z.string().min(1, 'must not be empty'),
  original_file_name: str,
  file_path: str,
  file_type: str,
  file_size: count.nullish(),
  file_creation_date: date,
  file_last_modified_date: date,
  processing_status: str,
  content: str,
});

export const groupSchema = z.looseObject({
  id: fileLocalId('group'),
  agent_ids: z.array(z.string()),
  description: str,
  manager_config: z.looseObject({ manager_type: z.string() }).nullish(),
  shared_block_ids: strList,
  hidden: z.boolean().nullish(),
});

/** A skill as Letta Code bundles it: its files (path → text), or where it lives (`source_url`). */
export const skillSchema = z.looseObject({
  name: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  files: z.record(z.string(), z.string()).nullish(),
  source_url: str,
});

export const mcpServerSchema = z.looseObject({ id: fileLocalId('mcp_server'), server_name: str, server_type: str });

/** Export's bound too; an import writes every agent in one transaction, which must end in time. */
export const MAX_AGENTS_PER_FILE = 100;

export const agentFileSchema = z.looseObject({
  agents: z.array(agentSchema).min(1, 'must hold at least one agent').max(MAX_AGENTS_PER_FILE, `must hold at most ${MAX_AGENTS_PER_FILE} agents`),
  groups: z.array(groupSchema).nullish(),
  blocks: z.array(blockSchema).nullish(),
  files: z.array(fileSchema).nullish(),
  sources: z.array(sourceSchema).nullish(),
  tools: z.array(toolSchema).nullish(),
  mcp_servers: z.array(mcpServerSchema).nullish(),
  skills: z.array(skillSchema).max(1000, 'must hold at most 1000 skills').nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  created_at: date,
});

export type AgentFile = z.output<typeof agentFileSchema>;
export type AgentFileAgent = z.output<typeof agentSchema>;
export type AgentFileTool = z.output<typeof toolSchema>;
export type AgentFileSkill = z.output<typeof skillSchema>;
