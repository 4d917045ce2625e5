import type { ServiceContext } from '../platform/context.js';
import { AppError, ToolExecutionError } from '../../errors.js';
import { archivalInsertTool, archivalSearchTool } from '../archival/passages.js';
import { grepFilesTool, openFilesTool, semanticSearchFilesTool } from '../files/file-tools.js';

/**
 * Built-in tools whose work is done by services (archival memory, files), for the agent loop.
 * Each returns the text the model sees; a ToolExecutionError becomes an error result.
 */
type ServerTool = (ctx: ServiceContext, agentId: string, args: Record<string, unknown>) => Promise<{ result: string; contextChanged: boolean }>;

const SERVER_TOOLS: Record<string, ServerTool> = {
  archival_memory_insert: async (ctx, agentId, args) => ({ result: await archivalInsertTool(ctx, agentId, args), contextChanged: true }),
  archival_memory_search: async (ctx, agentId, args) => ({ result: await archivalSearchTool(ctx, agentId, args), contextChanged: false }),
  open_files: async (ctx, agentId, args) => ({ result: await openFilesTool(ctx, agentId, args), contextChanged: true }),
  grep_files: async (ctx, agentId, args) => ({ result: await grepFilesTool(ctx, agentId, args), contextChanged: false }),
  semantic_search_files: async (ctx, agentId, args) => ({ result: await semanticSearchFilesTool(ctx, agentId, args), contextChanged: false }),
};

export async function executeServerTool(ctx: ServiceContext, agentId: string, name: string, args: Record<string, unknown>) {
  const tool = SERVER_TOOLS[name];
  if (!tool) return undefined;
  try {
    return await tool(ctx, agentId, args);
  } catch (error) {
    if (error instanceof ToolExecutionError) throw error;
    // Expected failures of the use case (bad input, not found) reach the model as tool errors.
    if (error instanceof AppError) throw new ToolExecutionError(`Error: ${error.message}`);
    throw error;
  }
}
