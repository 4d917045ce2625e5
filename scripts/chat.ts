import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

/**
 * `npm run chat`: the demo server (scripted model, no key needed) on :4000 and the chat example
 * (examples/chat) on :5173, allowed to call the server from its origin.
 */
const APP_ORIGINS = ['http://127.0.0.1:5173', 'http://localhost:5173'];
const root = fileURLToPath(new URL('..', import.meta.url));

const demo = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
  cwd: root,
  env: { ...process.env, CORS_ORIGINS: [process.env.CORS_ORIGINS, ...APP_ORIGINS].filter(Boolean).join(',') },
  stdio: 'inherit',
});

const vite = await createServer({ configFile: fileURLToPath(new URL('../examples/chat/vite.config.ts', import.meta.url)) });
await vite.listen();
process.stdout.write(`\nagentgraph chat — open ${APP_ORIGINS[0]}/ (it talks to the demo server on :4000)\n\n`);

const stop = async () => {
  demo.kill('SIGTERM');
  await vite.close();
  process.exit(0);
};
demo.once('exit', (code) => {
  process.stderr.write(`the demo server exited (${code})\n`);
  void vite.close().then(() => process.exit(code ?? 1));
});
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
