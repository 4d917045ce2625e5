import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gql, screenshotIfFailed, startChatRig, watchErrors, type ChatRig, type Demo } from './harness.js';

/**
 * The chat example (examples/chat) in headless Chromium against `npm run demo`'s server, served
 * from another origin as a real deployment would be. A second client (this test, over HTTP)
 * edits the agent where a test needs someone else to act.
 */
let rig: ChatRig;
let demo: Demo;
let browser: Browser;
let page: Page | undefined;

beforeAll(async () => {
  rig = await startChatRig();
  ({ demo, browser } = rig);
});

afterAll(async () => {
  await rig?.stop();
});

beforeEach(() => {
  page = undefined;
});

afterEach(async (context) => {
  await screenshotIfFailed(page, context);
  await page?.context().close();
});

async function createAgent(name: string): Promise<string> {
  const data = await gql<{ createAgent: { agent: { id: string } } }>(
    demo.url,
    `mutation($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }`,
    { input: { name, memoryBlocks: [{ label: 'human', value: '' }, { label: 'persona', value: 'A test agent.' }] } },
  );
  return data.createAgent.agent.id;
}

async function openChat(agentId: string, options: { routeSocket?: (route: WebSocketRoute) => void } = {}): Promise<Page> {
  const context = await browser.newContext();
  page = await context.newPage();
  watchErrors(page);
  if (options.routeSocket) await page.routeWebSocket(/\/graphql$/, options.routeSocket);
  await page.goto(`${rig.appOrigin}/?server=${encodeURIComponent(demo.url)}&agent=${agentId}`);
  await page.getByLabel('Message').waitFor();
  return page;
}

async function say(chat: Page, text: string): Promise<void> {
  await chat.getByLabel('Message').fill(text);
  await chat.getByRole('button', { name: 'Send' }).click();
}

/** The text of the assistant's messages, in order. */
const assistantText = (chat: Page) => chat.locator('.msg-assistant .text').allTextContents();

async function storedAssistantText(agentId: string): Promise<string[]> {
  const data = await gql<{ agent: { messages: { nodes: { __typename: string; content?: string }[] } } }>(
    demo.url,
    `query($id: ID!) { agent(id: $id) { messages(last: 50) { nodes { __typename ... on AssistantMessage { content } } } } }`,
    { id: agentId },
  );
  return data.agent.messages.nodes.filter((m) => m.__typename === 'AssistantMessage').map((m) => m.content!);
}

describe('chat example', () => {
  it('shows the tokens of a reply as they stream, then the stored reply, its stop reason and usage', async () => {
    const agentId = await createAgent('streaming');
    const chat = await openChat(agentId);
    await say(chat, 'tell me something slow');

    // While streaming, the live message grows: at least three different lengths are seen.
    const live = chat.locator('.msg-assistant.live .text');
    await live.waitFor();
    const lengths = new Set<number>();
    while (lengths.size < 3 && (await live.count()) > 0) {
      lengths.add(((await live.textContent()) ?? '').length);
      await chat.waitForTimeout(100);
    }
    expect(lengths.size).toBeGreaterThanOrEqual(3);

    await expect.poll(() => chat.getByTestId('stop-reason').textContent(), { timeout: 30_000 }).toMatch(/end_turn/i);
    expect(await chat.locator('.msg.live').count()).toBe(0);
    expect(await chat.getByTestId('run-status').textContent()).toMatch(/completed/i);
    expect(await chat.getByTestId('usage').textContent()).toMatch(/\d+ steps?, \d+ prompt \+ \d+ completion = \d+ tokens/);
    expect(await assistantText(chat)).toEqual(await storedAssistantText(agentId));
  });

  it('renders reasoning and tool calls distinctly from the reply', async () => {
    const agentId = await createAgent('tools');
    const chat = await openChat(agentId);
    await say(chat, 'my name is Ada');
    await expect.poll(() => chat.getByTestId('stop-reason').textContent(), { timeout: 30_000 }).toMatch(/end_turn/i);
    await expect.poll(() => chat.locator('.msg-reasoning').count()).toBeGreaterThan(0);
    expect(await chat.locator('.msg-tool-call .who').first().textContent()).toContain('memory_insert');
    expect(await chat.locator('.msg-tool-return').count()).toBeGreaterThan(0);
    expect((await assistantText(chat)).join(' ')).toContain('saved that to my memory');
  });

  it('cancels a run mid-stream and settles at once', async () => {
    const agentId = await createAgent('cancel');
    const chat = await openChat(agentId);
    await say(chat, 'tell me something long');
    await chat.locator('.msg-assistant.live').waitFor();

    await chat.getByRole('button', { name: 'Cancel' }).click();
    // The UI stops showing the run as streaming before the run's last event arrives.
    await expect.poll(() => chat.getByTestId('run-status').textContent(), { timeout: 5_000 }).toMatch(/^cancelled$/i);
    expect(await chat.locator('.msg.live').count()).toBe(0);
    expect(await chat.getByRole('button', { name: 'Cancel' }).isDisabled()).toBe(true);

    const runId = await chat.locator('.run-status').getAttribute('data-run-id');
    const { run } = await gql<{ run: { status: string } }>(demo.url, `query($id: ID!) { run(id: $id) { status } }`, { id: runId });
    expect(run.status).toMatch(/cancelled/i);
    // The partial reply was not stored: a cancelled step leaves no half message.
    expect(await storedAssistantText(agentId)).toEqual([]);
  });

  it('denies a tool call with a reason, which reaches the model, and memory stays as it was', async () => {
    const agentId = await createAgent('approval');
    await gql(demo.url, `mutation($id: ID!) { setToolApproval(input: { agentId: $id, toolName: "memory_insert", requiresApproval: true }) { requiresApproval } }`, { id: agentId });
    const chat = await openChat(agentId);
    await say(chat, 'my name is Ada');

    const card = chat.getByRole('region', { name: 'Approval' });
    await card.waitFor({ timeout: 30_000 });
    expect(await card.textContent()).toContain('memory_insert');
    await chat.getByLabel('Reason to deny memory_insert').fill('not today, thanks');
    await chat.getByRole('button', { name: 'Deny' }).click();

    await expect.poll(() => chat.getByTestId('stop-reason').textContent(), { timeout: 30_000 }).toMatch(/end_turn/i);
    expect(await card.count()).toBe(0);
    expect((await assistantText(chat)).join(' ')).toContain('not today, thanks');
    expect(await chat.locator('.block[data-label="human"] pre').textContent()).not.toContain('Ada');
  });

  it('answers a client-side tool with its result', async () => {
    const agentId = await createAgent('client tool');
    const { createTool } = await gql<{ createTool: { tool: { id: string } } }>(
      demo.url,
      `mutation { createTool(input: { name: "book_table", description: "Books a table", parameters: { type: "object", properties: { restaurant: { type: "string" } }, required: ["restaurant"] } }) { tool { id } } }`,
    );
    await gql(demo.url, `mutation($a: ID!, $t: ID!) { attachTool(input: { agentId: $a, toolId: $t }) { changed } }`, { a: agentId, t: createTool.tool.id });
    const chat = await openChat(agentId);
    await say(chat, 'please approve a booking');

    await chat.getByLabel('Result of book_table').fill('booked for 8pm');
    await chat.getByRole('button', { name: 'Send result' }).click();
    await expect.poll(() => chat.getByTestId('stop-reason').textContent(), { timeout: 30_000 }).toMatch(/end_turn/i);
    expect((await assistantText(chat)).join(' ')).toContain('booked for 8pm');
  });

  it('updates the memory panel when another client edits a block', async () => {
    const agentId = await createAgent('memory');
    const chat = await openChat(agentId);
    const human = chat.locator('.block[data-label="human"] pre');
    await human.waitFor();
    await gql(demo.url, `mutation($id: ID!) { updateBlock(input: { agentId: $id, blockLabel: "human", value: "Edited by another client" }) { block { id } } }`, { id: agentId });
    await expect.poll(() => human.textContent(), { timeout: 15_000 }).toBe('Edited by another client');
  });

  it('resumes after the socket is killed, from its last seq, with no text missing or repeated', async () => {
    const agentId = await createAgent('resume');
    const sockets: WebSocketRoute[] = [];
    const subscribeAfters: number[] = [];
    const chat = await openChat(agentId, {
      routeSocket: (route) => {
        sockets.push(route);
        const server = route.connectToServer();
        route.onMessage((message) => {
          const frame = JSON.parse(String(message)) as { type: string; payload?: { query?: string; variables?: { after?: number } } };
          if (frame.type === 'subscribe' && frame.payload?.query?.includes('runEvents')) subscribeAfters.push(frame.payload.variables?.after ?? 0);
          server.send(message);
        });
      },
    });
    await say(chat, 'tell me something slow');
    const live = chat.locator('.msg-assistant.live .text');
    await expect.poll(async () => ((await live.count()) ? ((await live.textContent()) ?? '').length : 0), { timeout: 30_000 }).toBeGreaterThan(40);

    // Kill the socket mid-run; the client reconnects on its own.
    await sockets.at(-1)!.close({ code: 1006, reason: 'killed by the test' });
    await expect.poll(() => chat.getByTestId('stop-reason').textContent(), { timeout: 60_000 }).toMatch(/end_turn/i);

    expect(sockets.length).toBeGreaterThanOrEqual(2);
    expect(subscribeAfters[0]).toBe(0);
    expect(subscribeAfters.at(-1)).toBeGreaterThan(0);
    expect(await assistantText(chat)).toEqual(await storedAssistantText(agentId));
  });

  it('shows an upload being processed until it completes', async () => {
    const agentId = await createAgent('files');
    const chat = await openChat(agentId);
    const statuses: string[] = [];
    await chat.exposeFunction('recordStatus', (status: string) => statuses.push(status));
    await chat.evaluate(() => {
      const seen = new Set<string>();
      new MutationObserver(() => {
        const status = document.querySelector('[data-testid="file-status"]')?.textContent;
        if (status && !seen.has(status)) {
          seen.add(status);
          (window as unknown as { recordStatus(s: string): void }).recordStatus(status);
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const text = Array.from({ length: 400 }, (_, i) => `## Section ${i}\n\nParagraph ${i} about agents, memory and streaming.\n`).join('\n');
    await chat.getByLabel('Upload a file').setInputFiles({ name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from(text) });

    await expect.poll(() => chat.getByTestId('file-status').textContent(), { timeout: 60_000 }).toBe('COMPLETED');
    // PENDING as uploaded, then what fileUpdated reported, in processing order.
    const order = ['PENDING', 'PARSING', 'EMBEDDING', 'COMPLETED'];
    expect(statuses[0]).toBe('PENDING');
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(statuses.map((s) => order.indexOf(s))).toEqual([...statuses.map((s) => order.indexOf(s))].sort((a, b) => a - b));
    expect(await chat.locator('.file-progress').textContent()).toMatch(/notes\.md: COMPLETED (\d+)\/\1 chunks/);
  });
});
