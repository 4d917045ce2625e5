// A small MCP server over stdio for the tests (the SDK's McpServer): `pid`, `env`, `slow`, and
// `die`, which exits the process in the middle of the call.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'stdio-test', version: '1.0.0' });
server.registerTool('pid', { description: 'The process id of this server', inputSchema: {} }, async () => ({ content: [{ type: 'text', text: String(process.pid) }] }));
server.registerTool('env', { description: 'One environment variable', inputSchema: { name: z.string() } }, async ({ name }) => ({
  content: [{ type: 'text', text: process.env[name] ?? '(unset)' }],
}));
server.registerTool('die', { description: 'Exits mid-call', inputSchema: {} }, async () => {
  process.stderr.write('about to die\n');
  setTimeout(() => process.exit(3), 50);
  return new Promise(() => {});
});
await server.connect(new StdioServerTransport());
