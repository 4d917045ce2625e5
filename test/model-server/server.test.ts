import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastUserText, startModelServer, systemText, toolNames, type ChatRequest, type ModelServer } from './server.js';

// --- a hand-written SSE client, so the server is checked independently of any SDK -----------

interface SseResult {
  /** `data:` payloads in order, including `[DONE]`. */
  events: string[];
  /** ms after the request started at which each event arrived. */
  times: number[];
  /** Set when the stream ended with an error (e.g. the socket was destroyed). */
  error?: unknown;
}

async function readSse(res: Response, started: number): Promise<SseResult> {
  const out: SseResult = { events: [], times: [] };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of block.split('\n')) {
          if (line.startsWith('data: ')) {
            out.events.push(line.slice(6));
            out.times.push(Date.now() - started);
          }
        }
      }
    }
  } catch (err) {
    out.error = err;
  }
  return out;
}

type Chunk = {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: Array<{
    index: number;
    finish_reason: string | null;
    delta: {
      role?: string;
      content?: string | null;
      reasoning_content?: string;
      tool_calls?: Array<{ index: number; id?: string; type?: string; function: { name?: string; arguments?: string } }>;
    };
  }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
};

const jsonChunks = (events: string[]): Chunk[] => events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e) as Chunk);

function assemble(chunks: Chunk[]) {
  let text = '';
  let reasoning = '';
  let finishReason: string | null = null;
  const calls: Array<{ id?: string; type?: string; name?: string; arguments: string }> = [];
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      if (typeof choice.delta.content === 'string') text += choice.delta.content;
      if (choice.delta.reasoning_content) reasoning += choice.delta.reasoning_content;
      for (const tc of choice.delta.tool_calls ?? []) {
        const call = (calls[tc.index] ??= { arguments: '' });
        if (tc.id) call.id = tc.id;
        if (tc.type) call.type = tc.type;
        if (tc.function.name) call.name = tc.function.name;
        call.arguments += tc.function.arguments ?? '';
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  }
  return { text, reasoning, calls, finishReason, usage: chunks.find((c) => c.usage)?.usage ?? undefined };
}

const userRequest = (text: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'scripted-model',
  messages: [
    { role: 'system', content: 'You are a test.' },
    { role: 'user', content: text },
  ],
  ...extra,
});

let server: ModelServer;

beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await server.close();
});

async function post(body: unknown, init: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test-key', ...init.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: init.signal,
  });
}

async function stream(body: ChatRequest, init: { signal?: AbortSignal } = {}) {
  const started = Date.now();
  const res = await post({ ...body, stream: true }, init);
  const sse = await readSse(res, started);
  return { res, ...sse };
}

async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('streaming', () => {
  it('streams text as several deltas in the OpenAI chunk format, ending with [DONE]', async () => {
    server.enqueue({ text: 'Hello, streaming world!' });
    const { res, events, error } = await stream(userRequest('hi'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(error).toBeUndefined();
    expect(events.at(-1)).toBe('[DONE]');

    const chunks = jsonChunks(events);
    const contentDeltas = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(contentDeltas.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ id: chunks[0]!.id, object: 'chat.completion.chunk', model: 'scripted-model' });
      expect(chunk.id).toMatch(/^chatcmpl-/);
      expect(typeof chunk.created).toBe('number');
      expect(chunk.choices[0]).toHaveProperty('index', 0);
      expect(chunk.choices[0]).toHaveProperty('finish_reason');
    }
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const { text, finishReason, usage } = assemble(chunks);
    expect(text).toBe('Hello, streaming world!');
    expect(finishReason).toBe('stop');
    expect(usage).toBeUndefined(); // no include_usage, no usage scripted
  });

  it('streams reasoning_content before the text', async () => {
    server.enqueue({ reasoning: 'Let me think about it.', text: 'Answer.' });
    const { events } = await stream(userRequest('q'));
    const chunks = jsonChunks(events);
    const firstText = chunks.findIndex((c) => c.choices[0]?.delta.content);
    const lastReasoning = chunks.findLastIndex((c) => c.choices[0]?.delta.reasoning_content);
    expect(lastReasoning).toBeGreaterThan(0);
    expect(lastReasoning).toBeLessThan(firstText);
    expect(assemble(chunks)).toMatchObject({ reasoning: 'Let me think about it.', text: 'Answer.' });
  });

  it('streams tool calls as header + argument fragments that reassemble by index', async () => {
    server.enqueue({
      toolCalls: [
        { name: 'memory_insert', arguments: { label: 'human', new_string: 'The user is called Ana.' } },
        { name: 'lookup', arguments: '{"query":"weather in Lisbon"}', id: 'call_fixed' },
      ],
    });
    const { events } = await stream(userRequest('q'));
    const chunks = jsonChunks(events);
    const { calls, finishReason, text } = assemble(chunks);
    expect(text).toBe('');
    expect(finishReason).toBe('tool_calls');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ type: 'function', name: 'memory_insert' });
    expect(calls[0]!.id).toMatch(/^call_/);
    expect(JSON.parse(calls[0]!.arguments)).toEqual({ label: 'human', new_string: 'The user is called Ana.' });
    expect(calls[1]).toEqual({ id: 'call_fixed', type: 'function', name: 'lookup', arguments: '{"query":"weather in Lisbon"}' });

    // Header chunk: id, type and name with empty arguments; then several fragments without id.
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const headers = deltas.filter((d) => d.id);
    expect(headers).toHaveLength(2);
    for (const h of headers) expect(h.function.arguments).toBe('');
    expect(deltas.filter((d) => d.index === 0 && !d.id).length).toBeGreaterThan(2);
  });

  it('sends a usage chunk (choices: []) when stream_options.include_usage is set', async () => {
    server.enqueue({ text: 'abc', usage: { prompt_tokens: 11, completion_tokens: 3 } }, { text: 'default usage' });
    const first = jsonChunks((await stream(userRequest('q', { stream_options: { include_usage: true } }))).events);
    const last = first.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 });
    // Like OpenAI: every other chunk carries usage: null.
    for (const chunk of first.slice(0, -1)) expect(chunk.usage).toBeNull();

    const second = jsonChunks((await stream(userRequest('q', { stream_options: { include_usage: true } }))).events);
    const usage = second.at(-1)!.usage!;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it('honours finishReason overrides', async () => {
    server.enqueue({ text: 'cut sho', finishReason: 'length' });
    expect(assemble(jsonChunks((await stream(userRequest('q'))).events)).finishReason).toBe('length');
  });

  it('can emit one malformed chunk mid-stream and continue', async () => {
    server.enqueue({ text: 'still arrives', malformedChunk: true });
    const { events, error } = await stream(userRequest('q'));
    expect(error).toBeUndefined();
    expect(events.at(-1)).toBe('[DONE]');
    const bad = events.filter((e) => {
      try {
        JSON.parse(e);
        return false;
      } catch {
        return e !== '[DONE]';
      }
    });
    expect(bad).toHaveLength(1);
    const badIndex = events.indexOf(bad[0]!);
    expect(badIndex).toBeGreaterThan(0);
    expect(badIndex).toBeLessThan(events.length - 2);
    const good = events.filter((e) => e !== bad[0]);
    expect(assemble(jsonChunks(good)).text).toBe('still arrives');
  });

  it('cutAfterChunks destroys the connection after N events, without [DONE]', async () => {
    server.enqueue({ text: 'this will never finish', cutAfterChunks: 3 });
    const { events } = await stream(userRequest('q'));
    expect(events).toHaveLength(3);
    expect(events).not.toContain('[DONE]');
    await waitFor(() => server.active() === 0);
    expect(server.requests[0]).toMatchObject({ aborted: false, completed: false });
  });

  it('waits delayMs before the first byte and chunkDelayMs between chunks', async () => {
    server.enqueue({ text: 'abcdefghijkl', delayMs: 150, chunkDelayMs: 40, chunkSize: 4 });
    const started = Date.now();
    const res = await post({ ...userRequest('q'), stream: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(145); // headers only after the delay
    const { events, times } = await readSse(res, started);
    // role chunk, 3 text chunks, finish chunk, [DONE]: 5 gaps of 40 ms.
    expect(events).toHaveLength(6);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(5 * 40 - 10);
  });
});

describe('non-streaming', () => {
  it('returns one chat.completion with content, tool_calls and usage', async () => {
    server.enqueue({
      text: 'Saving that.',
      toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'x' }, id: 'call_1' }],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
    });
    const res = await post(userRequest('q'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'scripted-model',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: 'Saving that.',
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'memory_insert', arguments: '{"label":"human","new_string":"x"}' } }],
          },
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
    });
    expect(body.id).toMatch(/^chatcmpl-/);
  });

  it('uses content: null and no tool_calls key when appropriate', async () => {
    server.enqueue({ toolCalls: [{ name: 't', arguments: {} }] }, { text: 'plain' });
    const a = (await (await post(userRequest('q'))).json()) as { choices: Array<{ message: Record<string, unknown> }> };
    expect(a.choices[0]!.message.content).toBeNull();
    const b = (await (await post(userRequest('q'))).json()) as { choices: Array<{ message: Record<string, unknown> }> };
    expect(b.choices[0]!.message).not.toHaveProperty('tool_calls');
  });
});

describe('errors', () => {
  it.each([
    [401, 'invalid_api_key'],
    [500, 'server_error'],
    [503, 'service_unavailable'],
  ])('status %i → OpenAI-style error body', async (status, code) => {
    server.enqueue({ status });
    const res = await post({ ...userRequest('q'), stream: true });
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message).toEqual(expect.any(String));
    expect(body.error.type).toEqual(expect.any(String));
  });

  it('429 carries retry-after: 0 and the scripted message/code', async () => {
    server.enqueue({ status: 429, errorMessage: 'slow down' }, { status: 400, errorCode: 'context_length_exceeded', errorMessage: 'too long' });
    const res = await post(userRequest('q'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('0');
    expect(await res.json()).toMatchObject({ error: { message: 'slow down', code: 'rate_limit_exceeded' } });
    const res2 = await post(userRequest('q'));
    expect(await res2.json()).toMatchObject({ error: { message: 'too long', code: 'context_length_exceeded', type: 'invalid_request_error' } });
  });

  it('answers 400 to a body that is not JSON, without consuming the script or recording it', async () => {
    server.enqueue({ text: 'kept' });
    const res = await post('{"model": "x", "messages": [');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(server.pending()).toBe(1);
    expect(server.requests).toHaveLength(0);
  });

  it('answers 500 when the brain throws', async () => {
    const s = await startModelServer({
      brain: () => {
        throw new Error('no idea');
      },
    });
    try {
      const res = await fetch(`${s.url}/chat/completions`, { method: 'POST', body: JSON.stringify(userRequest('q')) });
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ error: { message: expect.stringContaining('no idea') } });
    } finally {
      await s.close();
    }
  });
});

describe('other endpoints', () => {
  it('lists models and 404s anything else', async () => {
    const models = (await (await fetch(`${server.url}/models`)).json()) as { object: string; data: Array<{ id: string; object: string }> };
    expect(models.object).toBe('list');
    expect(models.data.map((m) => m.id)).toContain('scripted-model');
    expect((await fetch(`${server.url}/completions`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${server.url}/chat/completions`)).status).toBe(404);
    expect((await fetch(server.url.replace('/v1', '/'))).status).toBe(404);
  });
});

describe('script, brain and recording', () => {
  it('serves the queue in FIFO order, then falls back to the echo brain', async () => {
    server.enqueue({ text: 'first' }, { text: 'second' });
    server.enqueue({ text: 'third' });
    expect(server.pending()).toBe(3);
    const texts: string[] = [];
    for (let i = 0; i < 4; i++) texts.push(assemble(jsonChunks((await stream(userRequest(`message ${i}`))).events)).text);
    expect(texts).toEqual(['first', 'second', 'third', 'echo: message 3']);
    expect(server.pending()).toBe(0);
    expect(server.requests.map((r) => r.source)).toEqual(['queue', 'queue', 'queue', 'brain']);
  });

  it('uses a custom brain, which sees the request', async () => {
    const s = await startModelServer({
      brain: (req) => ({ text: `${toolNames(req).join(',')} | ${systemText(req)} | ${lastUserText(req)}` }),
    });
    try {
      const res = await fetch(`${s.url}/chat/completions`, {
        method: 'POST',
        body: JSON.stringify(
          userRequest('hello', {
            messages: [
              { role: 'system', content: 'sys' },
              { role: 'user', content: [{ type: 'text', text: 'multi' }, { type: 'text', text: 'part' }] },
            ],
            tools: [{ type: 'function', function: { name: 'a', parameters: {} } }, { type: 'function', function: { name: 'b' } }],
          }),
        ),
      });
      const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
      expect(body.choices[0]!.message.content).toBe('a,b | sys | multi\npart');
    } finally {
      await s.close();
    }
  });

  it('records every request body, headers and time, in order', async () => {
    server.enqueue({ text: 'a' }, { text: 'b' });
    await post(userRequest('one'));
    await stream(userRequest('two', { tools: [{ type: 'function', function: { name: 'x' } }] }));
    expect(server.requests).toHaveLength(2);
    const [one, two] = server.requests;
    expect(one!.body.messages.at(-1)).toEqual({ role: 'user', content: 'one' });
    expect(one!.body.stream).toBeUndefined();
    expect(two!.body.stream).toBe(true);
    expect(toolNames(two!.body)).toEqual(['x']);
    expect(one!.headers.authorization).toBe('Bearer test-key');
    expect(one!.time).toBeLessThanOrEqual(two!.time);
    expect(one!.reply).toEqual({ text: 'a' });
    expect(one).toMatchObject({ completed: true, aborted: false });
  });
});

describe('disconnects and close()', () => {
  it('hang + client abort: the server notices, and close() resolves quickly', async () => {
    server.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = post({ ...userRequest('q'), stream: true }, { signal: controller.signal });
    await waitFor(() => server.requests.length === 1 && server.active() === 1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await waitFor(() => server.active() === 0);
    expect(server.requests[0]).toMatchObject({ aborted: true, completed: false });
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('an abort during delayMs ends the request long before the delay', async () => {
    server.enqueue({ text: 'never', delayMs: 10_000 });
    const controller = new AbortController();
    const pending = post(userRequest('q'), { signal: controller.signal });
    await waitFor(() => server.active() === 1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await waitFor(() => server.active() === 0, 1000);
    expect(server.requests[0]!.aborted).toBe(true);
  });

  it('an abort mid-stream stops the writes', async () => {
    server.enqueue({ text: 'x'.repeat(400), chunkDelayMs: 20 });
    const controller = new AbortController();
    const res = await post({ ...userRequest('q'), stream: true }, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await waitFor(() => server.active() === 0, 1000);
    expect(server.requests[0]).toMatchObject({ aborted: true, completed: false });
  });

  it('close() ends hanging requests and open streams', async () => {
    server.enqueue({ hang: true }, { text: 'y'.repeat(400), chunkDelayMs: 50 });
    const hanging = post(userRequest('q'));
    await waitFor(() => server.active() === 1);
    const streaming = await post({ ...userRequest('q'), stream: true });
    const reading = readSse(streaming, Date.now());
    await waitFor(() => server.active() === 2);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(500);
    await expect(hanging).rejects.toThrow();
    const { events } = await reading;
    expect(events).not.toContain('[DONE]');
    expect(server.active()).toBe(0);
    await server.close(); // idempotent
  });
});
