import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/db/migrate.js';
import { pgSession } from '../../src/db/sessions.js';
import { compareFacts, expectedFacts, introspectFacts, type SchemaFacts } from './schema-drift.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const SCHEMA_FILE = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));
const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

describe('schema.prisma and prisma/migrations', () => {
  const schema = `drift_${randomBytes(6).toString('hex')}`;
  let admin: pg.Client;
  let schemaText: string;
  let migrated: SchemaFacts;

  beforeAll(async () => {
    schemaText = await fs.readFile(SCHEMA_FILE, 'utf8');
    admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
    await client.connect();
    const session = pgSession(client);
    try {
      await applyMigrations(session, { migrationsDir: MIGRATIONS_DIR });
      migrated = await introspectFacts(session);
    } finally {
      await session.release();
    }
  });
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
  });

  it('describe the same database', () => {
    const differences = compareFacts(expectedFacts(schemaText), migrated);
    expect(differences, `schema.prisma and the migrations differ:\n${differences.join('\n')}\n`).toEqual([]);
  });

  it('sees every kind of object on both sides', () => {
    const kinds = (facts: SchemaFacts) => new Set([...facts.keys()].map((key) => key.split(' ').slice(0, -1).join(' ')));
    const all = ['enum', 'table', 'column', 'primary key', 'index', 'foreign key'];
    expect([...kinds(expectedFacts(schemaText))].sort()).toEqual([...all].sort());
    expect([...kinds(migrated)].sort()).toEqual([...all].sort());
  });

  // Proves the check can fail: each edit of schema.prisma must be reported against the real migrations.
  describe('reports an edited schema.prisma', () => {
    const edit = (...replacements: [from: string | RegExp, to: string][]) => {
      let edited = schemaText;
      for (const [from, to] of replacements) {
        const before = edited;
        edited = edited.replace(from, to);
        expect(edited, `the edit ${String(from)} must apply`).not.toBe(before);
      }
      return compareFacts(expectedFacts(edited), migrated);
    };

    it('a removed @@index', () => {
      expect(edit(['  @@index([organizationId, label])\n', ''])).toEqual([
        'index Block.Block_organizationId_label_idx: in the migrations (btree (organizationId, label)) but not in schema.prisma',
      ]);
    });

    it('a changed field type', () => {
      expect(edit([/fileSize(\s+)Int\?/, 'fileSize$1BigInt?'])).toEqual([
        'column File.fileSize: schema.prisma says "bigint NULL", the migrations give "integer NULL"',
      ]);
    });

    it('a dropped relation', () => {
      // Both sides of the relation go: Message.run and Run.messages.
      const differences = edit(
        [/\n\s+run\s+Run\?\s+@relation\(fields: \[runId\][^\n]*/, ''],
        [/(steps\s+Step\[\]\n)\s+messages\s+Message\[\]\n/, '$1'],
      );
      expect(differences).toEqual([
        'foreign key Message.Message_runId_fkey: in the migrations ((runId) REFERENCES Run(id) ON DELETE SET NULL ON UPDATE CASCADE) but not in schema.prisma',
      ]);
    });

    it('a changed default, enum value, unique and onDelete at once', () => {
      const differences = edit(
        ['@default(100000)', '@default(5000)'],
        ['  approval\n', ''],
        [/(hash\s+String)\s+@unique/, '$1'],
        [/(run\s+Run\?\s+@relation\(fields: \[runId\], references: \[id\], onDelete: )SetNull/, '$1Cascade'],
      );
      expect(differences).toEqual([
        'column Block.limit: schema.prisma says "integer NOT NULL DEFAULT 5000", the migrations give "integer NOT NULL DEFAULT 100000"',
        'enum MessageRole: schema.prisma says "system, user, assistant, tool, summary", the migrations give "system, user, assistant, tool, approval, summary"',
        'foreign key Message.Message_runId_fkey: schema.prisma says "(runId) REFERENCES Run(id) ON DELETE CASCADE ON UPDATE CASCADE", the migrations give "(runId) REFERENCES Run(id) ON DELETE SET NULL ON UPDATE CASCADE"',
        'index ApiKey.ApiKey_hash_key: in the migrations (UNIQUE btree (hash)) but not in schema.prisma',
      ]);
    });
  });
});
