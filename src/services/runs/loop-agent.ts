import type { PrismaClient } from '../../db/client.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { LoopAgent } from '../../agent/loop.js';
import { storedToolRules } from '../memory/system-prompt.js';
import type { CompactionSettings } from '../messages/compaction.js';

/** The agent as the loop needs it. */
export async function loadLoopAgent(prisma: PrismaClient, agentId: string): Promise<LoopAgent | null> {
  return (await loadRunAgent(prisma, agentId))?.agent ?? null;
}

export interface RunAgent {
  agent: LoopAgent;
  /** Read once per run: the post-step compaction check needs them after every step. */
  compaction: CompactionSettings;
  /** Whether the agent manages a sleeptime group (its turns may start the group's runs). */
  sleeptimeManager: boolean;
}

/** What a run needs of its agent, in one statement. */
export async function loadRunAgent(prisma: PrismaClient, agentId: string): Promise<RunAgent | null> {
  const agent = await prisma.agent.findUnique({
    where: { id: agentId },
    include: {
      tools: { include: { tool: true }, orderBy: [{ createdAt: 'asc' }, { toolId: 'asc' }] },
      blocks: { include: { block: true }, orderBy: [{ createdAt: 'asc' }, { blockLabel: 'asc' }] },
      _count: { select: { managedGroups: { where: { managerType: 'sleeptime' } } } },
    },
  });
  if (!agent) return null;
  return {
    agent: toLoopAgent(agent),
    compaction: { llmConfig: agent.llmConfig, model: agent.model, messageBufferAutoclear: agent.messageBufferAutoclear },
    sleeptimeManager: agent._count.managedGroups > 0,
  };
}

type LoadedAgent = Prisma.AgentGetPayload<{ include: { tools: { include: { tool: true } }; blocks: { include: { block: true } } } }>;

function toLoopAgent(agent: LoadedAgent): LoopAgent {
  return {
    id: agent.id,
    agentType: agent.agentType,
    model: agent.model,
    timezone: agent.timezone,
    toolRules: storedToolRules(agent.toolRules),
    tools: agent.tools.map(({ tool, requiresApproval }) => ({
      name: tool.name,
      description: tool.description,
      jsonSchema: tool.jsonSchema,
      toolType: tool.toolType,
      requiresApproval,
      returnCharLimit: tool.returnCharLimit,
      mcp: tool.mcpServerId && tool.mcpToolName ? { serverId: tool.mcpServerId, toolName: tool.mcpToolName } : null,
    })),
    blocks: agent.blocks.map(({ block }) => ({
      id: block.id,
      label: block.label,
      value: block.value,
      limit: block.limit,
      description: block.description,
      readOnly: block.readOnly,
    })),
  };
}
