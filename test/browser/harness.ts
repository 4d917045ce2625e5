import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { TestContext } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const APP_DIST = path.join(ROOT, 'examples/chat/dist');
const SCREENSHOTS = path.join(ROOT, 'test/browser/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium as Debian ships it; nothing is downloaded. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const pageErrors = new WeakMap<Page, string[]>();

/** Keeps the page's uncaught errors and console errors, to print them if the test fails. */
export function watchErrors(page: Page): void {
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.stack ?? error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
}

/** Saves a screenshot of the page under test/browser/screenshots if the test failed (call in afterEach). */
export async function screenshotIfFailed(page: Page | undefined, context: TestContext): Promise<void> {
  if (!page || context.task.result?.state !== 'fail') return;
  const errors = pageErrors.get(page);
  if (errors?.length) process.stderr.write(`errors in the page:\n${errors.join('\n')}\n`);
  const file = path.join(SCREENSHOTS, `${context.task.name.replace(/[^\w-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
  process.stderr.write(`screenshot: ${file}\n`);
}

export interface Demo {
  /** The GraphQL endpoint (GraphiQL is served there too). */
  url: string;
  stop(): Promise<void>;
}

/** `npm run demo` as a user starts it: its own process, embedded database, scripted model. */
export async function startDemo(env: Record<string, string>): Promise<Demo> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'agentgraph-browser-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start within 90 s:\n${output}`)), 90_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphiQL at (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    stop: async () => {
      await stopProcess(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

/** Serves the built chat app (vite build output) as any static host would. */
export async function serveApp(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      let file = path.join(APP_DIST, pathname === '/' ? 'index.html' : pathname);
      if (!file.startsWith(APP_DIST) || !(await stat(file).catch(() => undefined))?.isFile()) file = path.join(APP_DIST, 'index.html');
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A second client: plain GraphQL over HTTP from the test, as another app would edit the agent. */
export async function gql<T = Record<string, unknown>>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export interface ChatRig {
  demo: Demo;
  /** Where the built chat app is served (another origin than the demo server). */
  appOrigin: string;
  browser: Browser;
  stop(): Promise<void>;
}

/** The demo server, the chat app served from its own origin (allowed by CORS_ORIGINS) and Chromium. */
export async function startChatRig(): Promise<ChatRig> {
  const app = await serveApp();
  const [demo, browser] = await Promise.all([startDemo({ CORS_ORIGINS: app.origin }), launchChromium()]);
  return {
    demo,
    appOrigin: app.origin,
    browser,
    stop: async () => {
      await browser.close();
      await demo.stop();
      await app.close();
    },
  };
}
