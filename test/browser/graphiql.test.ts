import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { gql, launchChromium, screenshotIfFailed, watchErrors, startDemo, type Demo } from './harness.js';

/** GraphiQL as served by the demo (offline, no CDN) loads in Chromium and runs a subscription. */
let demo: Demo;
let browser: Browser;
let page: Page | undefined;

beforeAll(async () => {
  [demo, browser] = await Promise.all([startDemo({}), launchChromium()]);
});

afterEach(async (context) => {
  await screenshotIfFailed(page, context);
});

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

it('loads GraphiQL and streams a run over graphql-ws', async () => {
  const { createAgent } = await gql<{ createAgent: { agent: { id: string } } }>(demo.url, `mutation { createAgent(input: { name: "graphiql" }) { agent { id } } }`);
  const { sendMessage } = await gql<{ sendMessage: { run: { id: string } } }>(
    demo.url,
    `mutation($id: ID!) { sendMessage(input: { agentId: $id, input: "hello" }) { run { id } } }`,
    { id: createAgent.agent.id },
  );
  const runId = sendMessage.run.id;

  page = await browser.newPage();
  watchErrors(page);
  const failedRequests: string[] = [];
  page.on('requestfailed', (request) => failedRequests.push(request.url()));
  const sockets: string[] = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));

  const query = `subscription { runEvents(runId: "${runId}") { __typename seq ... on StopReasonEvent { stopReason } } }`;
  await page.goto(`${demo.url}?query=${encodeURIComponent(query)}`);
  await page.locator('.graphiql-execute-button').click({ timeout: 30_000 });

  // A finished run is replayed whole and the subscription completes on its last event.
  await expect.poll(() => page!.locator('.graphiql-response').textContent(), { timeout: 30_000 }).toMatch(/"runEvents"[\s\S]*"__typename"/);
  expect(sockets.some((url) => url.startsWith('ws://'))).toBe(true);
  expect(failedRequests).toEqual([]);
});
