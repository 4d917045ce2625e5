import { Prisma } from '../../generated/prisma/client.js';
import type { ServiceContext } from '../platform/context.js';

/**
 * An agent page's blocks and tools in one SQL statement each, instead of inside the agents' own
 * statement (Prisma's relation join), whose result mapping was the largest part of the server's
 * time for `agents { edges { node { blocks { … } tools { … } } } }` (docs/benchmarks.md, "Nested
 * query"). Plain rows, as a hand-written endpoint reads them (PostgreSQL building
 * the JSON instead cost more of the machine's two cores).
 *
 * Only the shapes that the Agent.blocks and Agent.tools fields select (schema/memory.ts,
 * schema/tools.ts: the link in its order, at most `take` per agent, its own scalar fields and
 * the target's) are taken here; any other shape stays in Prisma's statement. The rows are put on
 * each agent under the same key and in the same shape as Prisma's (`agent.blocks[i].block`), so
 * the fields resolve exactly as before.
 */

type Kind = 'value' | 'date';

interface Relation {
  /** The link table, its key to the target, and the target's table and key on the link rows. */
  link: string;
  target: string;
  foreignKey: string;
  targetKey: string;
  /** The link order of the schema's fields (ascending), ties broken by the last column. */
  order: readonly [string, string];
  linkFields: Readonly<Record<string, Kind>>;
  targetFields: Readonly<Record<string, Kind>>;
}

const BLOCK_FIELDS: Record<string, Kind> = {
  id: 'value', organizationId: 'value', label: 'value', value: 'value', limit: 'value', description: 'value', readOnly: 'value',
  isTemplate: 'value', templateName: 'value', hidden: 'value', metadata: 'value', tags: 'value', createdAt: 'date', updatedAt: 'date',
};

const TOOL_FIELDS: Record<string, Kind> = {
  id: 'value', organizationId: 'value', name: 'value', description: 'value', toolType: 'value', sourceType: 'value', sourceCode: 'value',
  jsonSchema: 'value', argsJsonSchema: 'value', tags: 'value', returnCharLimit: 'value', pipRequirements: 'value', npmRequirements: 'value',
  defaultRequiresApproval: 'value', enableParallelExecution: 'value', metadata: 'value', createdAt: 'date', updatedAt: 'date',
  mcpServerId: 'value', mcpToolName: 'value',
};

const RELATIONS: Record<string, Relation> = {
  blocks: {
    link: 'BlockAgent', target: 'Block', foreignKey: 'blockId', targetKey: 'block', order: ['createdAt', 'blockLabel'],
    linkFields: { agentId: 'value', blockId: 'value', blockLabel: 'value', createdAt: 'date' }, targetFields: BLOCK_FIELDS,
  },
  tools: {
    link: 'ToolAgent', target: 'Tool', foreignKey: 'toolId', targetKey: 'tool', order: ['createdAt', 'toolId'],
    linkFields: { agentId: 'value', toolId: 'value', requiresApproval: 'value', createdAt: 'date' }, targetFields: TOOL_FIELDS,
  },
};

/** What one relation of the page loads: at most `take` links per agent, these link fields and these target fields. */
interface Plan {
  key: string;
  relation: Relation;
  take: number;
  linkFields: string[];
  targetFields: string[];
}

type Selection = Record<string, unknown>;

const isObject = (value: unknown): value is Selection => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The scalar fields of a `select` when all are known and `true`; otherwise undefined. */
function scalars(select: unknown, known: Readonly<Record<string, Kind>>): string[] | undefined {
  if (!isObject(select)) return undefined;
  const fields = Object.keys(select);
  return fields.every((field) => select[field] === true && Object.hasOwn(known, field)) ? fields : undefined;
}

/** The plan for one relation's selection, or undefined when it is not the plain shape this module serves. */
function planOf(key: string, relation: Relation, selection: unknown): Plan | undefined {
  if (!isObject(selection)) return undefined;
  const { orderBy, take, select, ...others } = selection;
  if (Object.keys(others).length > 0 || typeof take !== 'number' || !Number.isInteger(take) || take < 0 || !isObject(select)) return undefined;
  const [first, second] = relation.order;
  if (!Array.isArray(orderBy) || orderBy.length !== 2 || !isObject(orderBy[0]) || !isObject(orderBy[1])) return undefined;
  if (Object.keys(orderBy[0]).join() !== first || orderBy[0][first] !== 'asc' || Object.keys(orderBy[1]).join() !== second || orderBy[1][second] !== 'asc') return undefined;
  const { [relation.targetKey]: target, ...linkSelect } = select;
  if (!isObject(target) || Object.keys(target).join() !== 'select') return undefined;
  const linkFields = scalars(linkSelect, relation.linkFields);
  const targetFields = scalars(target.select, relation.targetFields);
  if (!linkFields || !targetFields) return undefined;
  return { key, relation, take, linkFields, targetFields };
}

/**
 * Splits an agent query's shape: the relations served here (their plans) and the shape left for
 * Prisma's statement. A shape without them comes back as it was.
 */
export function splitListRelations<Shape extends { select?: Selection }>(shape: Shape): { shape: Shape; plans: Plan[] } {
  const select = shape.select;
  if (!isObject(select)) return { shape, plans: [] };
  const plans: Plan[] = [];
  for (const [key, relation] of Object.entries(RELATIONS)) {
    const plan = planOf(key, relation, select[key]);
    if (plan) plans.push(plan);
  }
  if (plans.length === 0) return { shape, plans };
  const rest = { ...select };
  for (const plan of plans) delete rest[plan.key];
  return { shape: { ...shape, select: rest }, plans };
}

const quoted = (name: string) => Prisma.raw(`"${name}"`);

/** One relation's rows of all the page's agents in the link order: the agent id, then `l_<field>` of the link and `t_<field>` of the target (known field names only, quoted as they are). */
function relationQuery(plan: Plan, agentIds: string[]): Prisma.Sql {
  const { relation, take } = plan;
  const [first, second] = relation.order;
  const columns = [
    ...plan.linkFields.map((field) => `l."${field}" AS "l_${field}"`),
    ...plan.targetFields.map((field) => `t."${field}" AS "t_${field}"`),
  ];
  return Prisma.sql`SELECT l."agentId" AS "_agentId"${Prisma.raw(columns.map((column) => `, ${column}`).join(''))}
    FROM (
      SELECT *, row_number() OVER (PARTITION BY "agentId" ORDER BY ${quoted(first)}, ${quoted(second)}) AS position
      FROM ${quoted(relation.link)} WHERE "agentId" = ANY(${agentIds})
    ) l
    JOIN ${quoted(relation.target)} t ON t.id = l.${quoted(relation.foreignKey)}
    WHERE l.position <= ${take}
    ORDER BY l."agentId", l.${quoted(first)}, l.${quoted(second)}`;
}

const dateOf = (value: unknown) => (typeof value === 'string' ? new Date(value) : value);

/** How a row's columns become a link object: [field, column, is a date] for the link, then for its target. */
type Reader = { link: Array<[string, string, boolean]>; target: Array<[string, string, boolean]> };

function readerOf(plan: Plan): Reader {
  const columns = (prefix: string, fields: string[], kinds: Readonly<Record<string, Kind>>) =>
    fields.map((field): [string, string, boolean] => [field, prefix + field, kinds[field] === 'date']);
  return { link: columns('l_', plan.linkFields, plan.relation.linkFields), target: columns('t_', plan.targetFields, plan.relation.targetFields) };
}

function pick(row: Record<string, unknown>, columns: Array<[string, string, boolean]>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const [field, column, date] of columns) picked[field] = date ? dateOf(row[column]) : row[column];
  return picked;
}

/** Loads the planned relations of these agents (one statement per relation, all agents at once) and puts them on each agent. */
export async function attachListRelations(ctx: ServiceContext, agents: Array<{ id: string }>, plans: Plan[]): Promise<void> {
  if (plans.length === 0) return;
  const byId = new Map<string, Record<string, unknown>>();
  for (const agent of agents) {
    const target = agent as unknown as Record<string, unknown>;
    for (const plan of plans) target[plan.key] = [];
    byId.set(agent.id, target);
  }
  if (agents.length === 0) return;
  const ids = [...byId.keys()];
  const results = await Promise.all(plans.map((plan) => ctx.prisma.$queryRaw<Array<Record<string, unknown>>>(relationQuery(plan, ids))));
  plans.forEach((plan, index) => {
    const reader = readerOf(plan);
    const { targetKey } = plan.relation;
    for (const row of results[index]!) {
      const link = pick(row, reader.link);
      link[targetKey] = pick(row, reader.target);
      (byId.get(row._agentId as string)![plan.key] as unknown[]).push(link);
    }
  });
}
