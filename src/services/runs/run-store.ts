import type { RunStore, StepRecord } from '../../agent/loop.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { formatConversationSearchResults, parseConversationSearchArgs } from '../../agent/tools/conversation-search.js';
import { newId } from '../../ids.js';
import { retryOnConnectionLoss } from '../../db/errors.js';
import { BLOCK_LIMIT_DEFAULT } from '../memory/blocks.js';
import { rebuildSystemPrompt } from '../memory/system-prompt.js';
import type { ServiceContext } from '../platform/context.js';
import { publishAgentEvent, publishBlockChanges } from '../platform/events.js';
import { executeServerTool } from '../tools/server-tools.js';
import { executeMcpTool } from '../mcp/mcp-tools.js';
import { compactContext, compactIfNeeded, compactionSettings, type CompactionSettings } from '../messages/compaction.js';
import { MESSAGE_SEARCH_MAX_LIMIT, runMessageSearch, searchSettingsOf } from '../messages/message-search.js';
import { insertMessages, messageRows } from '../messages/message-store.js';
import { writeBlockEdit, writeStep, type WrittenStep } from './step-writes.js';
import { beginRun, readContext, RunContextChain, type RunContexts } from './run-contexts.js';

/**
 * A step's memory edits: blocks written, created and removed, and the system prompt of every
 * agent that shows one of them rebuilt (this agent's new prompt is returned).
 */
async function writeMemoryEdits(tx: Prisma.TransactionClient, orgId: string, agentId: string, step: StepRecord) {
  const showing = new Set<string>([agentId]);
  for (const block of step.changedBlocks) for (const id of await writeBlockEdit(tx, block)) showing.add(id);
  for (const blockId of step.deletedBlockIds) {
    await tx.blockAgent.deleteMany({ where: { agentId, blockId } });
    // A block no agent shows any more goes too (it was this agent's own).
    if ((await tx.blockAgent.count({ where: { blockId } })) === 0) await tx.block.delete({ where: { id: blockId } });
  }
  for (const block of step.createdBlocks) {
    const id = newId('Block');
    await tx.block.create({
      data: { id, organizationId: orgId, label: block.label, value: block.value, limit: block.limit ?? BLOCK_LIMIT_DEFAULT, description: block.description },
      select: { id: true },
    });
    await tx.blockAgent.create({ data: { agentId, blockId: id, blockLabel: block.label } });
    block.id = id;
  }
  // A shared block edited by this agent changes every agent that shows it.
  const touchedAgents = [...showing];
  let systemPrompt: string | undefined;
  for (const id of touchedAgents) {
    const text = await rebuildSystemPrompt(tx, id);
    if (id === agentId) systemPrompt = text ?? undefined;
  }
  return { systemPrompt, touchedAgents };
}

/** Waits before storing a step again after its connection was lost. */
const STEP_COMMIT_RETRIES_MS = [200, 1_000];

/**
 * A store serves one run; `loaded.compaction`: the agent's compaction settings, read with the
 * agent. The run's context comes from `contexts` when the agent's is kept there and current.
 */
export function createRunStore(ctx: ServiceContext, loaded: { compaction?: CompactionSettings; contexts?: RunContexts } = {}): RunStore {
  const { prisma, orgId } = ctx;
  // Else they are read once, at the first check.
  let settings: Promise<CompactionSettings | null> | undefined = loaded.compaction ? Promise.resolve(loaded.compaction) : undefined;
  const chain = new RunContextChain();
  return {
    async begin(runId, agentId) {
      const kept = loaded.contexts?.take(agentId);
      const begun = await beginRun(prisma, runId, agentId, kept?.version);
      if (begun.version !== undefined) chain.read(begun.version);
      return { cancelled: begun.cancelled, history: begun.messages ?? kept!.history };
    },

    async history(agentId) {
      const read = await readContext(prisma, agentId);
      if (read.version === undefined) chain.broken();
      else chain.read(read.version);
      return read.messages;
    },

    async commitStep(runId, agentId, step: StepRecord) {
      const ids = { orgId, runId, agentId, messageIds: step.messages.map(() => newId('Message')) };
      const editsMemory = step.changedBlocks.length + step.createdBlocks.length + step.deletedBlockIds.length > 0;
      // A step without memory edits is one statement; with them, one transaction. A lost
      // connection rolls either back: it is written again on a new connection.
      type Stored = { written: WrittenStep; systemPrompt?: string; touchedAgents: string[] };
      const write = async (): Promise<Stored | null> => {
        if (!editsMemory) {
          const written = await writeStep(prisma, ids, step);
          return written ? { written, touchedAgents: [] } : null;
        }
        return prisma.$transaction(async (tx) => {
          const written = await writeStep(tx, ids, step);
          if (!written) return null;
          return { written, ...(await writeMemoryEdits(tx, orgId, agentId, step)) };
        });
      };
      const stored = await retryOnConnectionLoss(write, STEP_COMMIT_RETRIES_MS, (error, delayMs) =>
        ctx.logger.warn({ err: error, runId, retryInMs: delayMs }, 'database connection lost while storing a step; storing it again'),
      );
      if (!stored) {
        chain.broken();
        return null;
      }
      // The step's messages move the version by one; the rebuild of this agent's system prompt,
      // in the same transaction (which holds the agent's row), by one more.
      if (ids.messageIds.length) chain.wrote(stored.written.version);
      else if (stored.written.version !== chain.current) chain.broken();
      if (editsMemory) {
        if (stored.systemPrompt === undefined) chain.broken();
        else chain.bumped();
      }
      publishAgentEvent(ctx, agentId, { type: 'MESSAGES_ADDED', runId, messageIds: ids.messageIds });
      if (stored.touchedAgents.length) {
        const blockIds = [...step.changedBlocks, ...step.createdBlocks].map((block) => block.id!).filter(Boolean);
        publishBlockChanges(ctx, { agentIds: stored.touchedAgents, blockIds: [...blockIds, ...step.deletedBlockIds] });
      }
      return { messageIds: ids.messageIds, systemPrompt: stored.systemPrompt, rows: stored.written.rows };
    },

    keepContext(agentId, history) {
      const version = chain.current;
      if (history && version !== undefined) loaded.contexts?.put(agentId, { version, history });
    },

    async keepInput(runId, agentId, messages) {
      chain.broken();
      const rows = messageRows(orgId, agentId, runId, null, messages);
      await prisma.$transaction(async (tx) => {
        await insertMessages(tx, rows);
        await tx.agent.update({ where: { id: agentId }, data: { messageIds: { push: rows.map((row) => row.id) } } });
      });
      const ids = rows.map((row) => row.id);
      publishAgentEvent(ctx, agentId, { type: 'MESSAGES_ADDED', runId, messageIds: ids });
      return ids;
    },

    executeServerTool: (agentId, name, args) => executeServerTool(ctx, agentId, name, args),

    executeMcpTool: (tool, args, cancel) => executeMcpTool(ctx, tool, args, cancel),

    async searchConversation(agentId, rawArgs, timezone) {
      const args = parseConversationSearchArgs(rawArgs, timezone);
      const settings = searchSettingsOf(ctx);
      const outcome = await runMessageSearch(prisma, orgId, settings, {
        query: args.query,
        mode: settings.embeddings ? 'hybrid' : 'fts',
        roles: args.roles?.length ? args.roles : ['user', 'assistant'],
        agentId,
        startDate: args.startDate,
        endDate: args.endDate,
        limit: Math.min(args.limit, MESSAGE_SEARCH_MAX_LIMIT),
      });
      if (outcome.hits.length === 0) return formatConversationSearchResults([], timezone, new Date());
      const rows = await prisma.message.findMany({ where: { id: { in: outcome.hits.map((hit) => hit.messageId) } }, select: { id: true, role: true, createdAt: true } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      const results = outcome.hits.flatMap((hit) => {
        const row = byId.get(hit.messageId);
        if (!row) return [];
        const relevance = { rrfScore: hit.rrfScore, vectorRank: hit.vectorRank, ftsRank: hit.ftsRank, searchMode: outcome.mode };
        return [{ createdAt: row.createdAt, role: row.role, text: hit.text, relevance }];
      });
      return formatConversationSearchResults(results, timezone, new Date());
    },

    async compactIfNeeded(runId, agentId, usage, cancel) {
      settings ??= compactionSettings(ctx, agentId);
      const compacted = await compactIfNeeded(ctx, runId, agentId, await settings, usage?.totalTokens ?? 0, cancel);
      if (compacted) chain.broken();
      return compacted;
    },

    async compact(runId, agentId, cancel) {
      chain.broken();
      return (await compactContext(ctx, agentId, { trigger: 'context_window_exceeded', runId, cancel })).compacted;
    },
  };
}
