import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The write-only values of an MCP server (header and env values), as stored. With a key
 * (SECRETS_KEY) they are sealed with AES-256-GCM: `v1:<iv>:<tag>:<ciphertext>` in base64; without
 * one they are kept as plain JSON (`v0:` prefix). Either way the API never returns them.
 */
export interface McpSecrets {
  headers: Record<string, string>;
  env: Record<string, string>;
}

export const NO_SECRETS: McpSecrets = { headers: {}, env: {} };

export function sealSecrets(secrets: McpSecrets, key: Buffer | undefined): string | null {
  if (!Object.keys(secrets.headers).length && !Object.keys(secrets.env).length) return null;
  const plain = JSON.stringify(secrets);
  if (!key) return `v0:${plain}`;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join(':');
}

export class SecretsUnavailable extends Error {
  override name = 'SecretsUnavailable';
}

/** Opens stored secrets; throws SecretsUnavailable when they were sealed with another key, or with one this server lacks. */
export function openSecrets(stored: string | null, key: Buffer | undefined): McpSecrets {
  if (!stored) return NO_SECRETS;
  if (stored.startsWith('v0:')) return JSON.parse(stored.slice(3)) as McpSecrets;
  const [version, iv, tag, sealed] = stored.split(':');
  if (version !== 'v1' || !iv || !tag || sealed === undefined) throw new SecretsUnavailable('stored secrets are in an unknown format');
  if (!key) throw new SecretsUnavailable('the headers and env values were sealed with SECRETS_KEY, which this server does not have');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(sealed, 'base64')), decipher.final()]).toString('utf8');
    return JSON.parse(plain) as McpSecrets;
  } catch {
    throw new SecretsUnavailable('the headers and env values were sealed with another SECRETS_KEY; set them again');
  }
}
