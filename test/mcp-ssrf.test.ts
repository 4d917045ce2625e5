import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { AddressRefused, guardedFetch, isNonPublicAddress } from '../src/services/mcp/address-guard.js';
import { closeAll, startTestServer } from './helpers/server.js';
import { startToolServer, type ToolServer } from './helpers/mcp-servers.js';

/**
 * The SSRF guard of MCP server URLs: loopback, private and link-local addresses are refused
 * unless the operator allows them; by default they are allowed only when this server itself
 * listens on loopback.
 */

const Create = graphql(`
  mutation SsrfCreate($input: CreateMcpServerInput!) { createMcpServer(input: $input) { mcpServer { id status tools { name } } } }
`);
const Update = graphql(`
  mutation SsrfUpdate($input: UpdateMcpServerInput!) { updateMcpServer(input: $input) { mcpServer { id url } } }
`);

const PRIVATE_URLS = (port: number) => [
  `http://127.0.0.1:${port}/mcp`,
  `http://localhost:${port}/mcp`,
  `http://[::1]:${port}/mcp`,
  `http://[::ffff:127.0.0.1]:${port}/mcp`,
  'http://10.1.2.3/mcp',
  'http://192.168.1.10/mcp',
  'http://169.254.169.254/latest/meta-data',
  'http://0.0.0.0/mcp',
];

describe('SSRF guard of MCP server URLs', () => {
  let tools: ToolServer;
  beforeAll(async () => {
    tools = await startToolServer('streamable_http');
  });
  afterAll(() => closeAll(tools));

  it('by default a server listening on loopback may reach loopback MCP servers, by address or by name', async () => {
    const t = await startTestServer();
    try {
      const byName = await t.ok(Create, { input: { name: 'local', transport: 'STREAMABLE_HTTP', url: tools.url.replace('127.0.0.1', 'localhost') } });
      expect(byName.createMcpServer.mcpServer.status).toBe('CONNECTED');
      expect(byName.createMcpServer.mcpServer.tools.length).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  }, 180_000);

  it('by default a server listening on other addresses refuses loopback, private and link-local URLs, also by DNS name', async () => {
    const t = await startTestServer({ HOST: '0.0.0.0' });
    const seen = tools.headers.length;
    try {
      const { token } = await t.newOrganization();
      for (const url of PRIVATE_URLS(tools.port)) {
        const result = await t.request(Create, { input: { name: 'x', transport: 'STREAMABLE_HTTP', url } }, { token });
        expect(result.errors?.[0]?.extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', path: 'input.url' });
        expect(result.errors?.[0]?.message, url).toContain('MCP_ALLOW_PRIVATE_NETWORKS');
      }
      const named = await t.request(Create, { input: { name: 'x', transport: 'STREAMABLE_HTTP', url: `http://localhost:${tools.port}/mcp` } }, { token });
      expect(named.errors?.[0]?.message).toMatch(/^input\.url: localhost resolves to (127\.0\.0\.1|::1), which is not a public address/);
      expect(tools.headers.length).toBe(seen);
    } finally {
      await t.close();
    }
  }, 180_000);

  it('MCP_ALLOW_PRIVATE_NETWORKS=deny refuses them on a loopback server too, updates included; allow permits them anywhere', async () => {
    const allowing = await startTestServer({ HOST: '0.0.0.0', MCP_ALLOW_PRIVATE_NETWORKS: 'allow' });
    try {
      const { token } = await allowing.newOrganization();
      const created = await allowing.ok(Create, { input: { name: 'lan', transport: 'STREAMABLE_HTTP', url: tools.url } }, { token });
      expect(created.createMcpServer.mcpServer.status).toBe('CONNECTED');
    } finally {
      await allowing.close();
    }
    const updating = await startTestServer({ MCP_ALLOW_PRIVATE_NETWORKS: 'deny' });
    try {
      const refused = await updating.request(Create, { input: { name: 'x', transport: 'SSE', url: `http://127.0.0.1:${tools.port}/sse` } });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'input.url' });
      // A public-looking name that does not resolve is refused as unresolvable, not allowed.
      const unresolvable = await updating.request(Create, { input: { name: 'x', transport: 'STREAMABLE_HTTP', url: 'http://no-such-host.invalid/mcp' } });
      expect(unresolvable.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'input.url' });
      const row = await updating.app.db.prisma.mcpServer.create({
        data: { id: 'mcp_server-00000000-0000-4000-8000-000000000001', organizationId: 'org-00000000-0000-4000-8000-000000000000', name: 'imported', transport: 'streamable_http', url: 'https://example.com/mcp' },
      });
      const moved = await updating.request(Update, { input: { id: row.id, url: tools.url } });
      expect(moved.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'input.url' });
    } finally {
      await updating.close();
    }
  }, 180_000);

  it('checks the address of every connection it opens, after DNS (so a name that changes its answer is refused too)', async () => {
    expect(['127.0.0.1', '10.0.0.1', '172.20.1.1', '192.168.0.1', '169.254.169.254', '100.64.0.1', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '0.0.0.0'].filter((address) => !isNonPublicAddress(address))).toEqual([]);
    expect(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'].filter(isNonPublicAddress)).toEqual([]);
    const denied = guardedFetch(false, 2000);
    try {
      for (const url of [tools.url, tools.url.replace('127.0.0.1', 'localhost')]) {
        const failure = await denied.fetch(url, { method: 'GET' }).then(
          () => undefined,
          (error: unknown) => error as { cause?: unknown },
        );
        expect(failure?.cause, url).toBeInstanceOf(AddressRefused);
      }
    } finally {
      await denied.close();
    }
    const allowed = guardedFetch(true, 2000);
    try {
      expect((await allowed.fetch(tools.url, { method: 'GET' })).status).toBeGreaterThan(0);
    } finally {
      await allowed.close();
    }
  });
});
