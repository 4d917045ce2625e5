import type { z } from 'zod';
import { ToolExecutionError } from '../../errors.js';

/** A server tool's arguments checked with zod; the first problem is a tool error the model can act on. */
export function parseToolArgs<S extends z.ZodType>(tool: string, schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ToolExecutionError(`Invalid arguments for ${tool}: ${issue.path.join('.') || 'arguments'}: ${issue.message}`);
}
