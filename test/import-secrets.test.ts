import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { fixtureJson } from './helpers/agent-files.js';

/** Secrets passed on agent-file import are not stored (issue 14): only their names are kept. */

describe('secrets on import', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps the names of the secrets, never their values', async () => {
    const doc = fixtureJson('memgpt_agent.af');
    doc.agents[0].secrets = { FILE_TOKEN: 'value-from-the-file' };
    const result = (await t.ok(
      'mutation($json: JSON, $secrets: JSON) { importAgent(input: { json: $json, secrets: $secrets }) { agentIds } }' as never,
      { json: doc, secrets: { API_KEY: 'super-secret-value' } } as never,
    )) as { importAgent: { agentIds: string[] } };
    const agentId = result.importAgent.agentIds[0]!;

    // At rest: the row holds the names with empty values.
    const row = await t.app.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId }, select: { secrets: true } });
    expect(row.secrets).toEqual({ FILE_TOKEN: '', API_KEY: '' });
    const raw = (await t.app.db.prisma.$queryRawUnsafe(`SELECT secrets::text AS text FROM "Agent" WHERE id = $1`, agentId)) as Array<{ text: string }>;
    expect(raw[0]!.text).not.toContain('super-secret-value');
    expect(raw[0]!.text).not.toContain('value-from-the-file');

    // The export lists the names.
    const exported = (await t.ok(`query { exportAgent(id: "${agentId}") }` as never)) as { exportAgent: { agents: Array<{ secrets: unknown }> } };
    expect(exported.exportAgent.agents[0]!.secrets).toEqual({ FILE_TOKEN: '', API_KEY: '' });
  });
});
