import { closeAppContext, createAppContext } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { demoBrain } from '../test/model-server/demo-brain.js';
import { startModelServer } from '../test/model-server/server.js';

/**
 * `npm run demo`: the API plus a SCRIPTED demo model on loopback, so that tool calls, memory
 * edits, approvals and streaming can be watched without an API key. The model is a rule-based
 * script (test/model-server/demo-brain.ts), not a language model.
 */
const model = await startModelServer({ brain: demoBrain, port: 0 });
let config;
try {
  config = loadConfig({
    DATA_DIR: './data-demo',
    ...process.env,
    LLM_PROVIDERS: JSON.stringify([{ name: 'demo', baseUrl: model.url }]),
    DEFAULT_MODEL: 'demo/scripted',
  });
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
const logger = createLogger(config);
const app = await createAppContext(config, logger);
const server = await startServer(app);
process.stdout.write(`
agentgraph demo — GraphiQL at ${server.url}
The model is SCRIPTED (no LLM): it saves "my name is …" / "remember …" to memory, streams slowly
when you say "slow", calls a client-side tool when you say "approve", and otherwise chats.
Try: createAgent(input: { name: "demo", memoryBlocks: [{ label: "human", value: "" }] }), then
sendMessage(input: { agentId: "...", input: "my name is Ada" }) and look at agent.memory.
`);

const stop = async () => {
  await server.close();
  await closeAppContext(app);
  await model.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
