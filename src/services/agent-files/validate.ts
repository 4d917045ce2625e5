import { AGENT_TYPES } from '../../agent/prompts.js';
import { toolRulesSchema } from '../../agent/tool-rules.js';
import { findInputProblem } from '../../input-safety.js';
import { AppError } from '../../errors.js';
import { agentFileSchema, type AgentFile } from './format.js';

/**
 * Reading an agent file: tolerant of what Letta writes (double-encoded JSON, extra keys), strict
 * about what import relies on. Every problem is collected, then reported in one BAD_USER_INPUT
 * error whose `extensions.problems` lists them all.
 */

export interface Problem {
  path: string;
  message: string;
}

/** Something of the file that import ignored, as Letta does; the import goes ahead and reports it. */
export type Warning = Problem;

const EXPECTED_FORMAT =
  "expected Letta's multi-entity agent file: a JSON object with an 'agents' list (and 'blocks', 'tools', 'sources', 'files', 'groups')";

function reject(message: string, problems: Problem[]): never {
  throw new AppError('BAD_USER_INPUT', message, { path: problems[0]?.path ?? 'file', problems });
}

/** Parses text into JSON, unwrapping a document that is itself a JSON string (as some Letta files are). */
function decode(raw: unknown): unknown {
  let value = raw;
  for (let depth = 0; typeof value === 'string' && depth < 3; depth++) {
    try {
      value = JSON.parse(value);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      reject(`Corrupted agent file format: not JSON (${reason})`, [{ path: 'file', message: `not JSON: ${reason}` }]);
    }
  }
  // Nested deeper than any agent file: the recursive steps below would overflow the stack.
  const problem = findInputProblem(value, 'file');
  if (problem) reject(`Corrupted agent file format: ${problem.path}: ${problem.message}`, [problem]);
  return value;
}

/** PostgreSQL text and jsonb cannot hold NUL characters; Letta strips them from block values too. */
function withoutNul(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
  if (Array.isArray(value)) return value.map(withoutNul);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key.replaceAll('\u0000', ''), withoutNul(inner)]));
  }
  return value;
}

/** Letta's legacy single-agent AgentSchema: one agent inline, with its core memory and tools. */
function looksLegacy(value: Record<string, unknown>): boolean {
  return (
    typeof value.name === 'string' &&
    ['core_memory', 'memory', 'llm_config', 'messages', 'tools', 'agent_type', 'message_ids'].some((key) => key in value)
  );
}

const pathOf = (parts: readonly PropertyKey[]) => parts.map(String).join('.');

/**
 * The references between entities: every id used must exist, in the right place, exactly once.
 * The one exception is Letta's: an agent's `group_ids` naming a group the file does not hold is
 * ignored (a warning), since Letta writes such files (a group left out of the export).
 */
function referenceProblems(file: AgentFile, warnings: Warning[]): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  const declare = (id: string, path: string) => {
    const first = seen.get(id);
    if (first) problems.push({ path, message: `duplicate id '${id}' (already used at ${first})` });
    else seen.set(id, path);
  };
  const collections = ['agents', 'blocks', 'tools', 'sources', 'files', 'groups', 'mcp_servers'] as const;
  for (const key of collections) (file[key] ?? []).forEach((entity, index) => declare(entity.id, `${key}.${index}.id`));
  file.agents.forEach((agent, a) => (agent.messages ?? []).forEach((message, m) => declare(message.id, `agents.${a}.messages.${m}.id`)));

  const ids = (key: (typeof collections)[number]) => new Set((file[key] ?? []).map((entity) => entity.id));
  const agents = ids('agents');
  const blocks = new Map((file.blocks ?? []).map((block) => [block.id, block]));
  const tools = new Map((file.tools ?? []).map((tool) => [tool.id, tool]));
  const sources = ids('sources');
  const files = ids('files');
  const groups = ids('groups');
  const refs = (list: readonly string[] | null | undefined, known: { has(id: string): boolean }, path: string, what: string) =>
    (list ?? []).forEach((id, index) => {
      if (!known.has(id)) problems.push({ path: `${path}.${index}`, message: `refers to ${what} '${id}', which is not in the file` });
    });

  const toolNames = new Map<string, string>();
  (file.tools ?? []).forEach((tool, index) => {
    const first = toolNames.get(tool.name);
    if (first) problems.push({ path: `tools.${index}.name`, message: `duplicate tool name '${tool.name}' (also ${first}); tools are matched by name` });
    else toolNames.set(tool.name, `tools.${index}`);
  });

  const fileNames = new Set<string>();
  (file.files ?? []).forEach((entry, index) => {
    if (!sources.has(entry.source_id)) problems.push({ path: `files.${index}.source_id`, message: `refers to source '${entry.source_id}', which is not in the file` });
    const key = `${entry.source_id}\u0000${entry.file_name}`;
    if (fileNames.has(key)) problems.push({ path: `files.${index}.file_name`, message: `source '${entry.source_id}' already has a file named '${entry.file_name}'` });
    fileNames.add(key);
  });

  file.agents.forEach((agent, a) => {
    const at = `agents.${a}`;
    if (agent.agent_type && !(AGENT_TYPES as readonly string[]).includes(agent.agent_type)) {
      problems.push({ path: `${at}.agent_type`, message: `unsupported agent type '${agent.agent_type}'; expected one of ${AGENT_TYPES.join(', ')}` });
    }
    refs(agent.tool_ids, tools, `${at}.tool_ids`, 'tool');
    refs(agent.block_ids, blocks, `${at}.block_ids`, 'block');
    refs(agent.source_ids, sources, `${at}.source_ids`, 'source');
    refs(agent.folder_ids, sources, `${at}.folder_ids`, 'source');
    (agent.group_ids ?? []).forEach((id, index) => {
      if (!groups.has(id)) warnings.push({ path: `${at}.group_ids.${index}`, message: `group '${id}' is not in the file; ignored` });
    });
    const own = new Set((agent.messages ?? []).map((message) => message.id));
    refs(agent.in_context_message_ids, own, `${at}.in_context_message_ids`, "a message of this agent's 'messages'");

    const labels = new Map<string, string>();
    for (const id of new Set(agent.block_ids ?? [])) {
      const block = blocks.get(id);
      if (!block) continue;
      const other = labels.get(block.label);
      if (other) problems.push({ path: `${at}.block_ids`, message: `blocks '${other}' and '${id}' are both labelled '${block.label}'; a label is unique per agent` });
      else labels.set(block.label, id);
    }

    const rules = toolRulesSchema.safeParse(agent.tool_rules ?? []);
    if (!rules.success) {
      for (const issue of rules.error.issues) problems.push({ path: pathOf([at, 'tool_rules', ...issue.path]), message: issue.message });
    }

    const viewed = new Set<string>();
    (agent.files_agents ?? []).forEach((view, v) => {
      const vat = `${at}.files_agents.${v}`;
      const keys = [`file:${view.file_id}`, `name:${view.file_name}`];
      if (keys.some((key) => viewed.has(key))) problems.push({ path: vat, message: `a second view of the same file ('${view.file_name}') for this agent` });
      keys.forEach((key) => viewed.add(key));
      if (view.agent_id !== agent.id) problems.push({ path: `${vat}.agent_id`, message: `must be its own agent '${agent.id}', not '${view.agent_id}'` });
      if (!files.has(view.file_id)) problems.push({ path: `${vat}.file_id`, message: `refers to file '${view.file_id}', which is not in the file` });
      if (!sources.has(view.source_id)) problems.push({ path: `${vat}.source_id`, message: `refers to source '${view.source_id}', which is not in the file` });
    });
  });

  const skillNames = new Set<string>();
  (file.skills ?? []).forEach((skill, index) => {
    if (skillNames.has(skill.name)) warnings.push({ path: `skills.${index}.name`, message: `a second skill named '${skill.name}'; the first is kept` });
    skillNames.add(skill.name);
  });

  (file.groups ?? []).forEach((group, g) => {
    refs(group.agent_ids, agents, `groups.${g}.agent_ids`, 'agent');
    refs(group.shared_block_ids, blocks, `groups.${g}.shared_block_ids`, 'block');
    const manager = group.manager_config?.manager_agent_id;
    if (typeof manager === 'string' && !agents.has(manager)) {
      problems.push({ path: `groups.${g}.manager_config.manager_agent_id`, message: `refers to agent '${manager}', which is not in the file` });
    }
  });
  return problems;
}

/**
 * An agent file from its text (or already-parsed JSON, or a JSON string holding it), checked,
 * with what import will ignore. Throws BAD_USER_INPUT listing every problem.
 */
export function readAgentFile(raw: unknown): { file: AgentFile; warnings: Warning[] } {
  const value = decode(raw);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    reject(`Not an agent file: ${EXPECTED_FORMAT}`, [{ path: 'file', message: EXPECTED_FORMAT }]);
  }
  const object = withoutNul(value) as Record<string, unknown>;
  if (!Array.isArray(object.agents)) {
    if (looksLegacy(object)) {
      const message = `This is Letta's legacy single-agent format, which is not supported; ${EXPECTED_FORMAT}. Export the agent again from a current Letta server.`;
      reject(message, [{ path: 'file', message }]);
    }
    reject(`Not an agent file: ${EXPECTED_FORMAT}`, [{ path: 'agents', message: "missing: an agent file has an 'agents' list" }]);
  }
  const parsed = agentFileSchema.safeParse(object);
  const problems: Problem[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({ path: pathOf(issue.path) || 'file', message: issue.message }));
  const warnings: Warning[] = [];
  try {
    // On a file with shape problems too, so that one answer lists every problem it can find.
    problems.push(...referenceProblems(parsed.success ? parsed.data : (object as AgentFile), warnings));
  } catch {
    // the shape problems above already explain why the references could not be followed
  }
  if (problems.length || !parsed.success) rejectAgentFile(problems);
  return { file: parsed.data, warnings };
}

/** Throws the BAD_USER_INPUT of an invalid agent file: the first problems in the message, all in `problems`. */
export function rejectAgentFile(problems: Problem[]): never {
  const shown = problems.slice(0, 5).map((problem) => `${problem.path}: ${problem.message}`);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  reject(`Invalid agent file (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${shown.join('; ')}${more}`, problems);
}
