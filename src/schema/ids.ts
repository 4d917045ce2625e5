import { z } from 'zod';
import { expectedIdForm, isIdOf, type IdKind } from '../ids.js';

/** A zod check for an id argument: a malformed id is BAD_USER_INPUT naming the expected form. */
export const idOf = (kind: IdKind) =>
  z.string().refine((value) => isIdOf(kind, value), { message: `malformed id; expected ${expectedIdForm(kind)}` });

export const agentId = idOf('Agent');
export const blockId = idOf('Block');
export const toolId = idOf('Tool');
