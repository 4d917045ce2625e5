import type { Prisma } from '../../generated/prisma/client.js';
import { compileMemory, compileMemoryMetadata, compileSystemPrompt, usesLineNumbers, type CompileMemoryInput, type MemoryBlock } from '../../agent/memory.js';
import { defaultFileLimits } from '../../agent/files/view.js';
import { toolRulesSchema, type ToolRule } from '../../agent/tool-rules.js';
import type { AgentType } from '../../agent/prompts.js';
import { newId } from '../../ids.js';

import type { Db } from '../platform/scope.js';

/** What the <directories> section needs: attached folders, file views and the file limits. */
export const FILES_FOR_MEMORY = {
  maxFilesOpen: true,
  perFileViewWindowCharLimit: true,
  llmConfig: true,
  folders: { include: { folder: true }, orderBy: [{ createdAt: 'asc' }, { folderId: 'asc' }] },
  files: { orderBy: { fileName: 'asc' } },
} satisfies Prisma.AgentSelect;

const agentForPrompt = {
  id: true,
  organizationId: true,
  agentType: true,
  system: true,
  timezone: true,
  toolRules: true,
  messageIds: true,
  model: true,
  blocks: { include: { block: true }, orderBy: [{ createdAt: 'asc' }, { blockLabel: 'asc' }] },
  ...FILES_FOR_MEMORY,
} satisfies Prisma.AgentSelect;

type AgentForPrompt = Prisma.AgentGetPayload<{ select: typeof agentForPrompt }>;

export function storedToolRules(value: unknown): ToolRule[] {
  const parsed = toolRulesSchema.safeParse(value ?? []);
  return parsed.success ? parsed.data : [];
}

/** The provider part of a model handle 'provider/model'. */
const endpointOf = (handle: string | null) => handle?.split('/')[0] ?? null;

function memoryBlocksOf(agent: AgentForPrompt): MemoryBlock[] {
  return agent.blocks.map(({ block }) => ({
    label: block.label,
    value: block.value,
    limit: block.limit,
    description: block.description,
    readOnly: block.readOnly,
    metadata: block.metadata as Record<string, unknown> | null,
  }));
}

/** The compiled core memory (blocks, tool rules) of an agent already loaded with its blocks. */
export function memoryOf(agent: AgentForPrompt): string {
  return compileMemory({
    agentType: agent.agentType as AgentType,
    blocks: memoryBlocksOf(agent),
    lineNumbers: usesLineNumbers(agent.agentType as AgentType, endpointOf(agent.model)),
    toolRules: storedToolRules(agent.toolRules),
    ...directoriesOf(agent),
  });
}

function directoriesOf(agent: AgentForPrompt): Pick<CompileMemoryInput, 'folders' | 'files' | 'maxFilesOpen'> {
  if (!agent.folders?.length) return {};
  const contextWindow = Number((agent.llmConfig as { context_window?: unknown } | null)?.context_window) || null;
  const defaults = defaultFileLimits(contextWindow);
  const limit = agent.perFileViewWindowCharLimit ?? defaults.perFileChars;
  return {
    maxFilesOpen: agent.maxFilesOpen ?? defaults.maxFilesOpen,
    folders: agent.folders.map(({ folder }) => ({ id: folder.id, name: folder.name, description: folder.description, instructions: folder.instructions })),
    files: agent.files.map((view) => ({
      folderId: view.folderId,
      folderName: '',
      fileName: view.fileName,
      isOpen: view.isOpen,
      visibleContent: view.visibleContent,
      limit,
    })),
  };
}

async function loadAgentForPrompt(db: Db, agentId: string): Promise<AgentForPrompt | null> {
  return db.agent.findUnique({ where: { id: agentId }, select: agentForPrompt });
}

/** The agent for a rebuild: what the prompt shows, with its message and passage counts in the same statement. */
const agentForRebuild = { ...agentForPrompt, _count: { select: { messages: true, passages: true } } } satisfies Prisma.AgentSelect;

/**
 * Writes the agent's system message (message_ids[0]) from its current template and memory,
 * creating it when the agent has none yet, and returns its text. Callers rebuild only after a
 * change, so the stored text (and a provider's prompt cache) stays put otherwise.
 */
export async function rebuildSystemPrompt(db: Db, agentId: string): Promise<string | null> {
  const agent = await db.agent.findUnique({ where: { id: agentId }, select: agentForRebuild });
  if (!agent) return null;
  const metadata = compileMemoryMetadata({
    agentId: agent.id,
    timezone: agent.timezone,
    recompiledAt: new Date(),
    previousMessageCount: Math.max(0, agent._count.messages - agent.messageIds.length),
    archivalMemoryCount: agent._count.passages,
  });
  const text = compileSystemPrompt(agent.system, memoryOf(agent), metadata);
  const content = [{ type: 'text', text }];
  const systemId = agent.messageIds[0];
  if (systemId && (await db.message.updateMany({ where: { id: systemId }, data: { content } })).count === 1) return text;
  const id = newId('Message');
  await db.message.create({ data: { id, organizationId: agent.organizationId, agentId, role: 'system', content } });
  await db.agent.update({ where: { id: agentId }, data: { messageIds: [id, ...agent.messageIds] } });
  return text;
}

/** The agent's compiled core memory as its system prompt would hold it now. */
export async function currentMemory(db: Db, agentId: string): Promise<string | null> {
  const agent = await loadAgentForPrompt(db, agentId);
  return agent ? memoryOf(agent) : null;
}

/** Rebuilds every agent that shows one of these blocks (a shared block edited through any agent). */
export async function rebuildForBlocks(db: Db, blockIds: string[]): Promise<string[]> {
  const links = await db.blockAgent.findMany({ where: { blockId: { in: blockIds } }, select: { agentId: true } });
  const agentIds = [...new Set(links.map((link) => link.agentId))];
  for (const agentId of agentIds) await rebuildSystemPrompt(db, agentId);
  return agentIds;
}

/** The text of a stored system message. */
export function systemText(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is { type: 'text'; text: string } => part?.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('');
}
