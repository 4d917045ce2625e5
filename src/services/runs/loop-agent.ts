import type { PrismaClient } from '../../db/client.js';
import type { LoopAgent } from '../../agent/loop.js';
import { storedToolRules } from '../memory/system-prompt.js';

/** The agent as the loop needs it. */
export async function loadLoopAgent(prisma: PrismaClient, agentId: string): Promise<LoopAgent | null> {
  const agent = await prisma.agent.findUnique({
    where: { id: agentId },
    include: {
      tools: { include: { tool: true }, orderBy: [{ createdAt: 'asc' }, { toolId: 'asc' }] },
      blocks: { include: { block: true }, orderBy: [{ createdAt: 'asc' }, { blockLabel: 'asc' }] },
    },
  });
  if (!agent) return null;
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
