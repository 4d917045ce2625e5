import { Prisma } from '../generated/prisma/client.js';

/** The write hit a unique constraint (two records with one name, label…): the caller says which, as CONFLICT. */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
