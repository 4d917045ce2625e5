import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { PrismaClient } from '../../db/client.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { DEFAULT_ORG_ID, newId } from '../../ids.js';
import { AppError, assertId, notFound, parseInput } from '../../errors.js';
import { syncBuiltinTools } from '../tools/tools.js';

/**
 * Tenancy: organizations and their API keys. Keys are random, shown once, stored as sha256.
 *
 * Policies:
 * - `required`: every request needs a valid key.
 * - `open-until-keys`: (loopback, AUTH_MODE=auto) requests without a key act in the default
 *   organization until the first active key exists anywhere; then keys are required.
 * - `disabled`: requests without a key act in the default organization.
 * A key that is sent must be valid under every policy.
 */
export type AuthPolicy = 'required' | 'open-until-keys' | 'disabled';

export interface Caller {
  orgId: string;
  apiKeyId: string | null;
}

const KEY_PREFIX = 'agk_';

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

export async function ensureDefaultOrganization(prisma: PrismaClient): Promise<void> {
  await prisma.organization.upsert({
    where: { id: DEFAULT_ORG_ID },
    create: { id: DEFAULT_ORG_ID, name: 'default' },
    update: {},
  });
}

const orgName = z.string().trim().min(1).max(100);

/** The organization with this name, created when missing. */
export async function findOrCreateOrganization(prisma: PrismaClient, name: string) {
  const parsed = parseInput(orgName, name, 'name');
  const existing = await prisma.organization.findUnique({ where: { name: parsed } });
  if (existing) return existing;
  const created = await prisma.organization.create({ data: { id: newId('Organization'), name: parsed } });
  await syncBuiltinTools(prisma, created.id);
  return created;
}

const keyName = z.string().trim().min(1).max(100);

/** Mints a key for an organization; the returned `key` is the only time the secret exists. */
export async function mintApiKey(prisma: PrismaClient, orgId: string, name: string) {
  const parsedName = parseInput(keyName, name, 'input.name');
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const apiKey = await prisma.apiKey.create({
    data: {
      id: newId('ApiKey'),
      organizationId: orgId,
      name: parsedName,
      prefix: key.slice(0, KEY_PREFIX.length + 6),
      hash: hashApiKey(key),
    },
  });
  return { apiKey, key };
}

export async function getOrganization(prisma: PrismaClient, orgId: string, shape: Pick<Prisma.OrganizationFindUniqueArgs, 'select' | 'include'> = {}) {
  return prisma.organization.findUniqueOrThrow({ ...shape, where: { id: orgId } } as Prisma.OrganizationFindUniqueOrThrowArgs);
}

export async function listApiKeys(prisma: PrismaClient, orgId: string) {
  return prisma.apiKey.findMany({ where: { organizationId: orgId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

export async function revokeApiKey(prisma: PrismaClient, orgId: string, id: string) {
  assertId('ApiKey', id, 'id');
  const existing = await prisma.apiKey.findFirst({ where: { id, organizationId: orgId } });
  if (!existing) throw notFound('ApiKey', id);
  if (existing.revokedAt) return existing;
  return prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
}

const unauthenticated = (message: string) => new AppError('UNAUTHENTICATED', message);

/** Reads `Bearer <key>` (or a bare key) from an Authorization value. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Who is calling, or UNAUTHENTICATED. */
export async function authenticate(
  prisma: PrismaClient,
  policy: AuthPolicy,
  token: string | undefined,
): Promise<Caller> {
  if (token) {
    const apiKey = await prisma.apiKey.findUnique({ where: { hash: hashApiKey(token) } });
    if (!apiKey || apiKey.revokedAt) throw unauthenticated('Invalid or revoked API key');
    return { orgId: apiKey.organizationId, apiKeyId: apiKey.id };
  }
  if (policy === 'disabled') return { orgId: DEFAULT_ORG_ID, apiKeyId: null };
  if (policy === 'open-until-keys') {
    const anyKey = await prisma.apiKey.findFirst({ where: { revokedAt: null }, select: { id: true } });
    if (!anyKey) return { orgId: DEFAULT_ORG_ID, apiKeyId: null };
  }
  throw unauthenticated('An API key is required: send "Authorization: Bearer <key>"');
}
