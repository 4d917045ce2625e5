import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, collect, eventually, startTestServer, startWithScriptedModel } from './helpers/server.js';
import { uploadFile } from './helpers/upload.js';

/** Prometheus metrics (issue 14), scraped after real operations, runs, subscriptions and uploads. */

const cleanup: Array<{ close(): Promise<void> } | undefined> = [];
afterAll(async () => {
  await closeAll(...cleanup.reverse());
});

/** The value of one sample line, e.g. `agentgraph_runs_total{status="completed",stop_reason="end_turn"}`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics', () => {
  it('counts operations, errors, runs, steps, tokens, subscriptions, file jobs and the event loop', { timeout: 180_000 }, async () => {
    const { model, t } = await startWithScriptedModel();
    cleanup.push(model, t);
    await t.ok('query Agents { agents { totalCount } }' as never);
    await t.request('query Broken { agent(id: "nope") { id } }');
    const agentId = ((await t.ok('mutation CreateAgent { createAgent(input: { model: "test/scripted" }) { agent { id } } }' as never)) as { createAgent: { agent: { id: string } } }).createAgent.agent.id;
    model.enqueue({ text: 'hello there' });
    await t.ok(`mutation Send { sendMessage(input: { agentId: "${agentId}", input: "hi" }) { stopReason } }` as never);
    const sub = collect(t.ws(), { query: `subscription Watch { agentEvents(agentId: "${agentId}") { type } }` });
    const folderId = ((await t.ok('mutation { createFolder(input: { name: "m" }) { folder { id } } }' as never)) as { createFolder: { folder: { id: string } } }).createFolder.folder.id;
    expect((await uploadFile(t, folderId, 'notes.txt', 'some text to embed')).errors).toBeUndefined();

    const scrape = async () => {
      const response = await fetch(new URL('/metrics', t.url));
      expect(response.status).toBe(200);
      return response.text();
    };
    let text = '';
    await eventually(
      () => (sample(text, 'agentgraph_open_subscriptions', { transport: 'graphql-ws' }) ?? 0) === 1 && (sample(text, 'agentgraph_file_jobs_total', { outcome: 'completed' }) ?? 0) >= 1,
      async () => void (text = await scrape()),
      60_000,
    );
    expect(sample(text, 'agentgraph_operations_total', { operation: 'Agents', type: 'query' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'agentgraph_operation_duration_seconds_count', { operation: 'Send', type: 'mutation' })).toBe(1);
    expect(sample(text, 'agentgraph_errors_total', { code: 'BAD_USER_INPUT', operation: 'Broken' })).toBe(1);
    expect(sample(text, 'agentgraph_runs_total', { status: 'completed', stop_reason: 'end_turn' })).toBe(1);
    expect(sample(text, 'agentgraph_run_queue_wait_seconds_count')).toBe(1);
    expect(sample(text, 'agentgraph_run_queue_depth')).toBe(0);
    expect(sample(text, 'agentgraph_step_duration_seconds_count', { provider: 'test' })).toBe(1);
    expect(sample(text, 'agentgraph_model_request_duration_seconds_count', { provider: 'test' })).toBe(1);
    expect(sample(text, 'agentgraph_tokens_total', { provider: 'test', kind: 'completion' })).toBeGreaterThan(0);
    expect(sample(text, 'agentgraph_open_connections', { transport: 'graphql-ws' })).toBe(1);
    expect(sample(text, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);

    sub.dispose();
    await eventually(() => sample(text, 'agentgraph_open_subscriptions', { transport: 'graphql-ws' }) === 0, async () => void (text = await scrape()));
  });

  it('is protected by METRICS_TOKEN, or served on its own port', { timeout: 120_000 }, async () => {
    const token = 'metrics-token-0123456789';
    const guarded = await startTestServer({ METRICS_TOKEN: token });
    cleanup.push(guarded);
    const url = new URL('/metrics', guarded.url);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    const separate = await startTestServer({ METRICS_PORT: '0' });
    cleanup.push(separate);
    expect((await fetch(new URL('/metrics', separate.url))).status).toBe(404);
    expect(separate.server.metricsUrl).toBeDefined();
    const response = await fetch(separate.server.metricsUrl!);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('agentgraph_operations_total');
  });
});
