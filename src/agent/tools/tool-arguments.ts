import { ToolExecutionError } from '../../errors.js';
import { pyTypeName } from '../python-str.js';

/** Binding of a tool call's JSON arguments to a Python signature, with Python's TypeError texts. */

type ArgKind = 'str' | 'int' | 'list';

export interface ParamSpec {
  name: string;
  kind: ArgKind;
  /** Present when the parameter has a default (it may then also be null). */
  optional?: boolean;
}

/** Keys the agent loop may leave in the arguments; Letta strips them before execution. */
const IGNORED_ARGS = new Set(['request_heartbeat']);

const QUALIFIER = 'LettaCoreToolExecutor';

function formatMissing(names: string[]): string {
  const quoted = names.map((name) => `'${name}'`);
  if (quoted.length === 1) return quoted[0]!;
  if (quoted.length === 2) return `${quoted[0]} and ${quoted[1]}`;
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}`;
}

/**
 * Binds JSON arguments to a tool's parameters as Python would call
 * `LettaCoreToolExecutor.<tool>(agent_state, actor, **args)`, then checks their types.
 * Absent optional parameters and JSON nulls for optional parameters come back as undefined.
 */
export function bindArguments(tool: string, args: unknown, params: readonly ParamSpec[], qualifier = QUALIFIER): Record<string, unknown> {
  const fn = `${qualifier}.${tool}()`;
  if (args === undefined || args === null) args = {};
  if (typeof args !== 'object' || Array.isArray(args)) {
    throw new ToolExecutionError(`${fn} argument after ** must be a mapping, not ${pyTypeName(args)}`);
  }
  const given = args as Record<string, unknown>;
  const known = new Set(params.map((param) => param.name));
  for (const key of Object.keys(given)) {
    if (!known.has(key) && !IGNORED_ARGS.has(key)) {
      throw new ToolExecutionError(`${fn} got an unexpected keyword argument '${key}'`);
    }
  }
  const missing = params.filter((param) => !param.optional && !Object.hasOwn(given, param.name)).map((param) => param.name);
  if (missing.length > 0) {
    const noun = missing.length === 1 ? 'argument' : 'arguments';
    throw new ToolExecutionError(`${fn} missing ${missing.length} required positional ${noun}: ${formatMissing(missing)}`);
  }
  const bound: Record<string, unknown> = {};
  for (const param of params) {
    const value = given[param.name];
    if (value === undefined || (value === null && param.optional)) continue;
    const ok =
      param.kind === 'str'
        ? typeof value === 'string'
        : param.kind === 'int'
          ? typeof value === 'number' && Number.isInteger(value)
          : Array.isArray(value);
    if (!ok) throw new ToolExecutionError(`${fn} argument '${param.name}' must be ${param.kind}, not ${pyTypeName(value)}`);
    bound[param.name] = value;
  }
  return bound;
}
