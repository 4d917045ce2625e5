import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { gql, screenshotIfFailed, startChatRig, watchErrors, type ChatRig, type Demo } from './harness.js';

/**
 * A server that requires keys: the demo in AUTH_MODE=auto stops answering keyless requests once
 * the first key exists. The chat asks for a key, and with it sees the organization's agents.
 */
let rig: ChatRig;
let demo: Demo;
let browser: Browser;
let page: Page | undefined;

beforeAll(async () => {
  rig = await startChatRig();
  ({ demo, browser } = rig);
});

afterEach(async (context) => {
  await screenshotIfFailed(page, context);
});

afterAll(async () => {
  await rig?.stop();
});

it('asks for an API key when the server requires one, then works with it', async () => {
  await gql(demo.url, `mutation { createAgent(input: { name: "behind a key" }) { agent { id } } }`);
  const { createApiKey } = await gql<{ createApiKey: { key: string } }>(demo.url, `mutation { createApiKey(input: { name: "browser" }) { key } }`);

  page = await browser.newPage();
  watchErrors(page);
  await page.goto(`${rig.appOrigin}/?server=${encodeURIComponent(demo.url)}`);
  await expect.poll(() => page!.getByRole('alert').textContent(), { timeout: 30_000 }).toContain('requires an API key');
  expect(await page.getByLabel('Agent').locator('option').count()).toBe(1); // only the placeholder

  await page.getByLabel('API key').fill(createApiKey.key);
  await page.getByRole('button', { name: 'Use key' }).click();
  await expect.poll(() => page!.getByLabel('Agent').locator('option').allTextContents(), { timeout: 30_000 }).toContain('behind a key');
  expect(await page.getByRole('alert').count()).toBe(0);
  // The key is kept for the next visit.
  expect(await page.evaluate(() => window.localStorage.getItem('agentgraph.apiKey'))).toBe(createApiKey.key);
});
