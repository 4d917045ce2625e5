import type { PrismaClient } from '../../db/client.js';
import { sqlOf } from '../../db/direct-sql.js';
import type { PromptMessage } from '../../agent/prompt-builder.js';

/**
 * Context windows kept in this instance between runs, so that a run's first step does not read
 * (and a long history does not cost) every message again.
 *
 * Each is kept with the agent's `contextVersion` it is the context of. Database triggers (see
 * the migration `context_version`) change that version with every change of the window or of a
 * message, whichever client or instance makes it; a run's first statement compares it with the
 * kept one and reads the window only when they differ, so a stale context is never used. A run
 * takes its agent's context (runs of an agent execute one at a time) and puts it back at its
 * end with the version its own writes led to (see RunContextChain).
 */

export interface KeptContext {
  version: number;
  history: PromptMessage[];
}

/** What is kept at most (least recently used contexts go first): agents, and messages in all. */
const MAX_AGENTS = 1_000;
const MAX_MESSAGES = 50_000;

export class RunContexts {
  private readonly kept = new Map<string, KeptContext>();
  private messages = 0;

  constructor(private readonly limits = { agents: MAX_AGENTS, messages: MAX_MESSAGES }) {}

  /** The agent's kept context, which the caller now owns (it is no longer kept). */
  take(agentId: string): KeptContext | undefined {
    const context = this.kept.get(agentId);
    if (context) this.drop(agentId, context);
    return context;
  }

  put(agentId: string, context: KeptContext): void {
    this.take(agentId);
    if (context.history.length > this.limits.messages) return;
    this.kept.set(agentId, context);
    this.messages += context.history.length;
    for (const [oldest, kept] of this.kept) {
      if (this.kept.size <= this.limits.agents && this.messages <= this.limits.messages) break;
      this.drop(oldest, kept);
    }
  }

  private drop(agentId: string, context: KeptContext): void {
    this.kept.delete(agentId);
    this.messages -= context.history.length;
  }
}

/**
 * The version a run's context corresponds to, followed through the run's own writes: each must
 * move the version by exactly what the run expects (a step statement by one, its rebuild of the
 * system prompt by one more); anything else means someone else wrote too, and the run's context
 * is not kept (the next run reads it).
 */
export class RunContextChain {
  private version: number | undefined;

  /** The context was read at this version. */
  read(version: number): void {
    this.version = version;
  }

  /** A write of the run that moves the version by one left it at `after`. */
  wrote(after: number | undefined): void {
    this.version = this.version !== undefined && after === this.version + 1 ? after : undefined;
  }

  /** A write of the run moved the version by one (inside the transaction that `wrote` checked). */
  bumped(): void {
    if (this.version !== undefined) this.version += 1;
  }

  /** The chain cannot be followed any more (a write it cannot account for). */
  broken(): void {
    this.version = undefined;
  }

  get current(): number | undefined {
    return this.version;
  }
}

interface BeginRow {
  status: string | null;
  version: number | null;
  messages: PromptMessage[] | null;
}

/**
 * A run's first statement: whether it was cancelled meanwhile, the agent's context version and,
 * unless it is `keptVersion`, the messages of its context window in order.
 */
export async function beginRun(prisma: PrismaClient, runId: string | null, agentId: string, keptVersion: number | undefined) {
  const [row] = await sqlOf(prisma)<BeginRow>`
    SELECT r.status::text AS status, a."contextVersion" AS version,
           CASE WHEN a."contextVersion" IS NOT DISTINCT FROM ${keptVersion ?? null}::int THEN NULL ELSE (
             SELECT COALESCE(json_agg(json_build_object('role', m.role, 'content', m.content, 'toolCalls', m."toolCalls",
                                                        'toolCallId', m."toolCallId", 'name', m.name, 'model', m.model) ORDER BY context.position), '[]'::json)
               FROM unnest(a."messageIds") WITH ORDINALITY AS context(id, position)
               JOIN "Message" m ON m.id = context.id
           ) END AS messages
      FROM (SELECT 1) AS one
      LEFT JOIN "Run" r ON r.id = ${runId}::text
      LEFT JOIN "Agent" a ON a.id = ${agentId}`;
  return {
    cancelled: row?.status === 'cancelled',
    /** Undefined when the agent is gone. */
    version: row?.version ?? undefined,
    /** Undefined when the version is the kept one. */
    messages: row?.messages ?? (row?.version == null ? [] : undefined),
  };
}

/** The agent's context window and its version, read again during a run (after a compaction, say). */
export async function readContext(prisma: PrismaClient, agentId: string) {
  const { version, messages } = await beginRun(prisma, null, agentId, undefined);
  return { version, messages: messages ?? [] };
}
