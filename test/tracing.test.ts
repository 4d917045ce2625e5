import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { SERVICES_MODE, closeAll, startTestServer, startWithScriptedModel, type TestServer } from './helpers/server.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver.js';

/**
 * OpenTelemetry tracing (issue 14), through the public API: a server with tracing on exports to a
 * real OTLP/HTTP receiver; the spans are read as a collector would get them.
 */

const cleanup: Array<{ close(): Promise<void> } | undefined> = [];
afterAll(async () => {
  await closeAll(...cleanup.reverse());
});

const NewAgent = `mutation NewTracedAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }`;
const Send = `mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) { stopReason run { id status steps { id } } }
}`;
const SendAsync = `mutation SendLater($input: SendMessageAsyncInput!) { sendMessageAsync(input: $input) { run { id } } }`;
const RunById = `query RunById($id: ID!) { run(id: $id) { id status } }`;

const tracingOn = (receiver: OtlpReceiver): Record<string, string> => ({
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
});

const secret = () => `secret-${randomBytes(8).toString('hex')}`;

const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) => spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId);
const only = (spans: ReceivedSpan[], name: string) => {
  const found = spans.filter((span) => span.name === name);
  expect(found.map((span) => span.name), `exactly one span ${name}`).toEqual([name]);
  return found[0]!;
};

async function newAgent(t: TestServer) {
  const created = await t.request<{ createAgent: { agent: { id: string } } }, unknown>(NewAgent, { input: { model: 'test/scripted', memoryBlocks: [{ label: 'human', value: 'Name: unknown' }] } });
  return created.data!.createAgent.agent.id;
}

async function waitForRun(t: TestServer, id: string) {
  for (;;) {
    const run = await t.request<{ run: { status: string } }, unknown>(RunById, { id });
    if (!['CREATED', 'RUNNING'].includes(run.data!.run.status)) return run.data!.run.status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('tracing', () => {
  it('exports operation → run → steps → model and tool calls, with errors by code and no message text', { timeout: 120_000 }, async () => {
    const receiver = await startOtlpReceiver();
    cleanup.push(receiver);
    const { model, t } = await startWithScriptedModel(tracingOn(receiver));
    cleanup.push(model);
    const words = { input: secret(), newName: secret(), badOld: secret(), reply: secret() };
    let sent: { stopReason: string; run: { id: string; status: string; steps: Array<{ id: string }> } };
    let agentId: string;
    let orgId: string;
    let failedRunId: string;
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    try {
      agentId = await newAgent(t);
      orgId = (await t.app.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).organizationId;
      model.enqueue(
        { toolCalls: [{ name: 'memory_replace', arguments: { label: 'human', old_string: 'Name: unknown', new_string: words.newName } }], usage: { prompt_tokens: 100, completion_tokens: 20 } },
        { toolCalls: [{ name: 'memory_replace', arguments: { label: 'human', old_string: words.badOld, new_string: 'x' } }], usage: { prompt_tokens: 120, completion_tokens: 10 } },
        { text: words.reply, usage: { prompt_tokens: 150, completion_tokens: 8 } },
      );
      const result = await t.request<{ sendMessage: typeof sent }, unknown>(Send, { input: { agentId, input: words.input } });
      expect(result.errors).toBeUndefined();
      sent = result.data!.sendMessage;
      expect(sent.stopReason).toBe('END_TURN');
      expect(sent.run.steps).toHaveLength(3);

      // A failing operation, and a run whose model call fails.
      const missing = await t.request(Send, { input: { agentId: 'agent-00000000-0000-4000-8000-000000000000', input: words.input } });
      expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      model.enqueue({ status: 400, errorMessage: 'bad request' });
      const failed = await t.request<{ sendMessage: typeof sent }, unknown>(Send, { input: { agentId, input: words.input } });
      failedRunId = failed.data!.sendMessage.run.id;
      expect(failed.data!.sendMessage.run.status).toBe('FAILED');

      // A request carrying a W3C traceparent continues the caller's trace.
      const response = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${clientSpanId}-01` },
        body: JSON.stringify({ query: 'query Continued { agents { totalCount } }' }),
      });
      expect(response.status).toBe(200);
    } finally {
      // Closing the server exports what is still buffered.
      await t.close();
    }
    const spans = receiver.spans;
    expect(receiver.rejected).toEqual([]);

    const operations = spans.filter((span) => span.name === 'mutation.Send');
    const operation = operations.find((span) => span.status.code !== 2 && childrenOf(spans, span).some((child) => child.attributes['agentgraph.run.id'] === sent.run.id))!;
    expect(operation, 'the operation that started the run').toBeDefined();
    expect(operation.kind).toBe(2);
    expect(operation.attributes).toMatchObject({ 'graphql.execute.operationName': 'Send', 'graphql.execute.operationType': 'mutation' });
    expect(operation.resource).toMatchObject({ 'service.name': 'agentgraph' });

    const run = only(childrenOf(spans, operation), 'agent.run');
    expect(run.attributes).toMatchObject({
      'agentgraph.run.id': sent.run.id,
      'agentgraph.agent.id': agentId,
      'agentgraph.org.id': orgId,
      'agentgraph.run.stop_reason': 'end_turn',
      'agentgraph.run.status': 'completed',
      'agentgraph.run.steps': 3,
      'gen_ai.usage.input_tokens': 370,
      'gen_ai.usage.output_tokens': 38,
    });
    expect(run.status.code).toBe(0);

    const steps = childrenOf(spans, run).sort((a, b) => Number(a.attributes['agentgraph.step.index']) - Number(b.attributes['agentgraph.step.index']));
    expect(steps.map((step) => step.name)).toEqual(['agent.step', 'agent.step', 'agent.step']);
    expect(steps.map((step) => step.attributes['agentgraph.step.id'])).toEqual(sent.run.steps.map((step) => step.id));
    expect(steps.map((step) => step.attributes['gen_ai.usage.input_tokens'])).toEqual([100, 120, 150]);
    expect(steps[2]!.attributes['agentgraph.step.stop_reason']).toBe('end_turn');

    for (const step of steps) {
      const call = only(childrenOf(spans, step), 'chat scripted');
      expect(call.kind).toBe(3);
      expect(call.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'test', 'gen_ai.request.model': 'scripted', 'agentgraph.model.streaming': true });
      expect(call.attributes['gen_ai.usage.output_tokens']).toBe(step.attributes['gen_ai.usage.output_tokens']);
    }
    const goodTool = only(childrenOf(spans, steps[0]!), 'execute_tool memory_replace');
    expect(goodTool.attributes).toMatchObject({ 'gen_ai.tool.name': 'memory_replace', 'gen_ai.tool.type': 'function', 'agentgraph.tool.status': 'success' });
    expect(goodTool.attributes['agentgraph.tool.type']).toEqual(expect.any(String));
    expect(goodTool.status.code).toBe(0);
    const badTool = only(childrenOf(spans, steps[1]!), 'execute_tool memory_replace');
    expect(badTool.attributes).toMatchObject({ 'agentgraph.tool.status': 'error', 'error.type': 'TOOL_ERROR' });
    expect(badTool.status).toMatchObject({ code: 2, message: 'TOOL_ERROR' });
    expect(childrenOf(spans, steps[2]!).map((span) => span.name)).toEqual(['chat scripted']);

    // The failing operation: error status, its code, and no run.
    const notFound = operations.find((span) => span.status.code === 2)!;
    expect(notFound.attributes['graphql.error.codes']).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(notFound.events)).toContain('NOT_FOUND');
    expect(childrenOf(spans, notFound)).toEqual([]);

    // The run whose model call failed: the run, its step and the call carry the code.
    const failedRun = spans.find((span) => span.name === 'agent.run' && span.attributes['agentgraph.run.id'] === failedRunId)!;
    expect(failedRun.attributes).toMatchObject({ 'agentgraph.run.status': 'failed', 'agentgraph.run.stop_reason': 'llm_api_error', 'error.type': 'LLM_ERROR' });
    expect(failedRun.status).toMatchObject({ code: 2, message: 'LLM_ERROR' });
    const failedStep = only(childrenOf(spans, failedRun), 'agent.step');
    expect(failedStep.status.code).toBe(2);
    expect(only(childrenOf(spans, failedStep), 'chat scripted').status).toMatchObject({ code: 2, message: 'LLM_ERROR' });

    // The caller's trace continues.
    const continued = only(spans, 'query.Continued');
    expect(continued.traceId).toBe(traceId);
    expect(continued.parentSpanId).toBe(clientSpanId);

    // No message text, tool argument or model output ever leaves the server.
    const exported = receiver.bodies.join('\n');
    for (const word of Object.values(words)) expect(exported).not.toContain(word);
  });

  // Services mode only: one process executes every run of an embedded database.
  it.skipIf(!SERVICES_MODE)('links a run executed by another instance to the operation that queued it', { timeout: 120_000 }, async () => {
    const receiver = await startOtlpReceiver();
    cleanup.push(receiver);
    const { model, t: worker } = await startWithScriptedModel(tracingOn(receiver));
    cleanup.push(model);
    // The front instance only queues (RUN_WORKERS=0); the worker instance executes.
    const front = await startTestServer({ ...worker.env, ...tracingOn(receiver), LLM_PROVIDERS: JSON.stringify([{ name: 'test', baseUrl: model.url }]), RUN_WORKERS: '0' }, { dropOnClose: false });
    let runId: string;
    try {
      const agentId = await newAgent(front);
      model.enqueue({ text: 'done' });
      const queued = await front.request<{ sendMessageAsync: { run: { id: string } } }, unknown>(SendAsync, { input: { agentId, input: secret() } });
      runId = queued.data!.sendMessageAsync.run.id;
      expect(await waitForRun(front, runId)).toBe('COMPLETED');
    } finally {
      await front.close();
      await worker.close();
    }
    const operation = only(receiver.spans, 'mutation.SendLater');
    const run = receiver.spans.find((span) => span.name === 'agent.run' && span.attributes['agentgraph.run.id'] === runId)!;
    expect(run.traceId).toBe(operation.traceId);
    expect(run.parentSpanId).toBe(operation.spanId);
    expect(run.resource['service.instance.id']).not.toBe(operation.resource['service.instance.id']);
    expect(childrenOf(receiver.spans, run).map((span) => span.name)).toEqual(['agent.step']);
  });

  it('speaks OTLP/HTTP protobuf by default', { timeout: 60_000 }, async () => {
    const receiver = await startOtlpReceiver();
    cleanup.push(receiver);
    const { model, t } = await startWithScriptedModel({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/` });
    cleanup.push(model);
    const words = { input: secret(), reply: secret() };
    try {
      const agentId = await newAgent(t);
      model.enqueue({ text: words.reply });
      expect((await t.request<{ sendMessage: { stopReason: string } }, unknown>(Send, { input: { agentId, input: words.input } })).data?.sendMessage.stopReason).toBe('END_TURN');
    } finally {
      await t.close();
    }
    expect(receiver.bodies).toEqual([]);
    const exported = Buffer.concat(receiver.protobufBodies).toString('latin1');
    for (const name of ['mutation.NewTracedAgent', 'mutation.Send', 'agent.run', 'agent.step', 'chat scripted', 'agentgraph.run.id']) expect(exported).toContain(name);
    for (const word of Object.values(words)) expect(exported).not.toContain(word);
  });

  it("a sleeptime agent's run is a child of the run that triggered it", { timeout: 120_000 }, async () => {
    const receiver = await startOtlpReceiver();
    cleanup.push(receiver);
    const { model, t } = await startWithScriptedModel(tracingOn(receiver));
    cleanup.push(model);
    let mainRunId: string;
    let sleeperRunId = '';
    try {
      const created = await t.request<{ createAgent: { agent: { id: string } } }, unknown>(NewAgent, { input: { model: 'test/scripted', enableSleeptime: true, memoryBlocks: [{ label: 'human', value: 'Name: unknown' }] } });
      const agentId = created.data!.createAgent.agent.id;
      const groups = await t.request<{ agent: { groups: Array<{ id: string; agents: Array<{ id: string }> }> } }, unknown>(`query TracedGroups($id: ID!) { agent(id: $id) { groups { id agents { id } } } }`, { id: agentId });
      const group = groups.data!.agent.groups[0]!;
      await t.request(`mutation TracedGroupUpdate($input: UpdateGroupInput!) { updateGroup(input: $input) { group { id } } }`, { input: { id: group.id, sleeptimeAgentFrequency: 1 } });
      model.enqueue({ text: 'Noted.' }, { toolCalls: [{ name: 'memory_finish_edits', arguments: {} }] });
      const sent = await t.request<{ sendMessage: { run: { id: string } } }, unknown>(Send, { input: { agentId, input: secret() } });
      mainRunId = sent.data!.sendMessage.run.id;
      const sleeper = group.agents[0]!.id;
      for (;;) {
        const runs = await t.request<{ agent: { runs: { edges: Array<{ node: { id: string; status: string } }> } } }, unknown>(`query TracedRuns($id: ID!) { agent(id: $id) { runs(first: 5) { edges { node { id status } } } } }`, { id: sleeper });
        const run = runs.data!.agent.runs.edges[0]?.node;
        if (run && !['created', 'running'].includes(run.status)) {
          sleeperRunId = run.id;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await t.close();
    }
    const runSpan = (id: string) => receiver.spans.find((span) => span.name === 'agent.run' && span.attributes['agentgraph.run.id'] === id)!;
    expect(runSpan(sleeperRunId).parentSpanId).toBe(runSpan(mainRunId).spanId);
    expect(runSpan(sleeperRunId).traceId).toBe(runSpan(mainRunId).traceId);
  });

  it('exports nothing when tracing is off (the default)', { timeout: 60_000 }, async () => {
    const receiver = await startOtlpReceiver();
    cleanup.push(receiver);
    const { model, t } = await startWithScriptedModel({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    cleanup.push(model);
    try {
      const agentId = await newAgent(t);
      model.enqueue({ toolCalls: [{ name: 'memory_replace', arguments: { label: 'human', old_string: 'Name: unknown', new_string: 'Name: Ada' } }] }, { text: 'hello' });
      const result = await t.request<{ sendMessage: { stopReason: string } }, unknown>(Send, { input: { agentId, input: 'hi' } });
      expect(result.data?.sendMessage.stopReason).toBe('END_TURN');
    } finally {
      await t.close();
    }
    expect(receiver.bodies).toEqual([]);
    expect(receiver.rejected).toEqual([]);
  });

  it('an unreachable or silent collector never breaks requests, and shutdown stays bounded', { timeout: 60_000 }, async () => {
    // A collector that accepts connections and never answers.
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanup.push({ close: () => new Promise<void>((resolve) => (silent.closeAllConnections(), silent.close(() => resolve()))) });
    const { model, t } = await startWithScriptedModel({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1/traces`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
      OTEL_BSP_SCHEDULE_DELAY: '10',
      OTEL_BSP_MAX_QUEUE_SIZE: '4',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    cleanup.push(model);
    try {
      const agentId = await newAgent(t);
      for (let i = 0; i < 3; i++) {
        model.enqueue({ text: `answer ${i}` });
        const result = await t.request<{ sendMessage: { stopReason: string } }, unknown>(Send, { input: { agentId, input: `message ${i}` } });
        expect(result.errors).toBeUndefined();
        expect(result.data?.sendMessage.stopReason).toBe('END_TURN');
      }
    } finally {
      await t.close();
    }
  });

  it('refuses bad tracing settings with one line naming the variable', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ OTEL_TRACES_EXPORTER: 'jaeger' }, 'OTEL_TRACES_EXPORTER'],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
      [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER'],
      [{ OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG'],
      [{ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
      [{ OTEL_RESOURCE_ATTRIBUTES: 'a=%zz' }, 'OTEL_RESOURCE_ATTRIBUTES'],
    ];
    for (const [env, name] of cases) expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${name}[.:][^\\n]+$`));
    expect(loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=t1' }).OTEL_EXPORTER_OTLP_HEADERS).toEqual({ authorization: 'Bearer abc', 'x-tenant': 't1' });
  });
});
