import { describe, expect, it } from 'vitest';
import { demoBrain, lastUserUtterance } from './demo-brain.js';
import { startModelServer, type ChatMessage, type ChatRequest, type ChatTool, type JsonSchema, type Reply } from './server.js';

const memoryBlocks = (blocks: Record<string, string>): string =>
  '<memory_blocks>\nThe following memory blocks are currently engaged in your core memory unit:\n\n' +
  Object.entries(blocks)
    .map(([label, value]) => `<${label}>\n<description>\nabout ${label}\n</description>\n<metadata>\n- chars_current=${value.length}\n- chars_limit=5000\n</metadata>\n<value>\n${value}\n</value>\n</${label}>\n`)
    .join('\n') +
  '\n</memory_blocks>';

const tool = (name: string, properties: Record<string, JsonSchema> = {}, required: string[] = Object.keys(properties)): ChatTool => ({
  type: 'function',
  function: { name, description: name, parameters: { type: 'object', properties, required } },
});

const MEMORY_TOOLS = [
  tool('memory_insert', { label: { type: 'string' }, new_string: { type: 'string' }, insert_line: { type: 'integer' } }, ['label', 'new_string']),
  tool('memory_replace', { label: { type: 'string' }, old_string: { type: 'string' }, new_string: { type: 'string' } }),
  tool('conversation_search', { query: { type: 'string' } }),
];
const SEND_MESSAGE = tool('send_message', { message: { type: 'string' } });

function request(userText: string, opts: { blocks?: Record<string, string>; tools?: ChatTool[]; messages?: ChatMessage[] } = {}): ChatRequest {
  return {
    model: 'scripted-demo',
    messages: [
      { role: 'system', content: `You are a helpful assistant.\n\n${memoryBlocks(opts.blocks ?? { persona: 'I am a demo agent.', human: '' })}` },
      { role: 'user', content: userText },
      ...(opts.messages ?? []),
    ],
    tools: opts.tools ?? MEMORY_TOOLS,
  };
}

const decide = (req: ChatRequest): Reply => demoBrain(req) as Reply;
const args = (reply: Reply, i = 0): Record<string, unknown> => {
  const a = reply.toolCalls?.[i]?.arguments;
  return typeof a === 'string' ? (JSON.parse(a) as Record<string, unknown>) : (a ?? {});
};

describe('demoBrain', () => {
  it('saves "my name is …" to the human block with memory_insert, with reasoning', () => {
    const reply = decide(request('Hi, my name is Ana!'));
    expect(reply.text).toBeUndefined();
    expect(reply.reasoning).toEqual(expect.any(String));
    expect(reply.toolCalls?.[0]?.name).toBe('memory_insert');
    expect(args(reply)).toEqual({ label: 'human', new_string: "The user's name is Ana." });
  });

  it('saves "remember …" facts, into persona or the first block when there is no human block', () => {
    expect(args(decide(request('Remember that I like green tea', { blocks: { persona: 'p', notes: '' } })))).toEqual({
      label: 'persona',
      new_string: 'I like green tea',
    });
    expect(args(decide(request('remember: deadlines are on Fridays', { blocks: { project: '', notes: '' } })))).toMatchObject({ label: 'project' });
  });

  it('acknowledges a tool result with streamed text', () => {
    const reply = decide(
      request('my name is Ana', {
        messages: [
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'memory_insert', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
        ],
      }),
    );
    expect(reply.toolCalls).toBeUndefined();
    expect(reply.text).toBe('Done — I saved that to my memory.');
    expect(reply.chunkDelayMs).toBeGreaterThan(0);
  });

  it('reports a denied or failed tool instead of claiming success', () => {
    const reply = decide(
      request('approve', {
        tools: [...MEMORY_TOOLS, tool('deploy', { target: { type: 'string' } })],
        messages: [
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'deploy', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'call_9', content: 'Error: request to call tool denied. User reason: not now' },
        ],
      }),
    );
    expect(reply.text).toMatch(/didn't work.*denied/);
  });

  it('speaks through send_message when the agent has it (memgpt), and sets request_heartbeat on edits', () => {
    const heartbeatTool = tool('memory_insert', { label: { type: 'string' }, new_string: { type: 'string' }, request_heartbeat: { type: 'boolean' } });
    const hello = decide(request('hello there', { tools: [SEND_MESSAGE, ...MEMORY_TOOLS] }));
    expect(hello.text).toBeUndefined();
    expect(hello.toolCalls?.[0]?.name).toBe('send_message');
    expect(args(hello).message).toMatch(/scripted demo model/);

    const edit = decide(request('{"type": "user_message", "message": "my name is Bo", "time": "now"}', { tools: [SEND_MESSAGE, heartbeatTool] }));
    expect(edit.toolCalls?.[0]?.name).toBe('memory_insert');
    expect(args(edit)).toMatchObject({ label: 'human', new_string: "The user's name is Bo.", request_heartbeat: true });

    // After the edit a heartbeat follows the tool result; the reply is an acknowledgement via send_message.
    const ack = decide(
      request('my name is Bo', {
        tools: [SEND_MESSAGE, heartbeatTool],
        messages: [
          { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'memory_insert', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c', content: '{"status": "OK"}' },
          { role: 'user', content: '{"type": "heartbeat", "reason": "Function called using request_heartbeat=true, returning control"}' },
        ],
      }),
    );
    expect(ack.toolCalls?.[0]?.name).toBe('send_message');
    expect(args(ack).message).toBe('Done — I saved that to my memory.');
  });

  it('streams a long answer slowly for "slow"/"long"', () => {
    const reply = decide(request('Tell me something long please'));
    expect(reply.chunkDelayMs).toBe(150);
    const words = reply.text!.split(/\s+/).length;
    expect(words).toBeGreaterThan(45);
    expect(words).toBeLessThan(80);
  });

  it('calls a non-built-in tool with schema-derived arguments on "approve"', () => {
    const custom = tool(
      'book_flight',
      { destination: { type: 'string' }, seats: { type: 'integer' }, cabin: { type: 'string', enum: ['economy', 'business'] }, note: { type: 'string' } },
      ['destination', 'seats', 'cabin'],
    );
    const reply = decide(request('please approve this', { tools: [...MEMORY_TOOLS, custom] }));
    expect(reply.toolCalls?.[0]?.name).toBe('book_flight');
    expect(args(reply)).toEqual({ destination: 'demo', seats: 1, cabin: 'economy' });
    // Without a custom tool, "approve" is just conversation.
    expect(decide(request('approve')).text).toMatch(/scripted demo model/);
  });

  it('otherwise greets and says what the human block holds', () => {
    const reply = decide(request('hello', { blocks: { persona: 'p', human: 'Name: Ana\nLikes tea' } }));
    expect(reply.text).toMatch(/scripted demo model/);
    expect(reply.text).toContain('Name: Ana\nLikes tea');
    expect(decide(request('hello')).text).toMatch(/don't know anything about you yet/);
  });

  it('unwraps Letta user_message JSON and skips loop signals', () => {
    const req = request('{"type": "user_message", "message": "remember I code in Rust"}', {
      messages: [{ role: 'user', content: '{"type": "system_alert", "message": "note"}' }],
    });
    expect(lastUserUtterance(req)).toBe('remember I code in Rust');
  });

  it('drives a real stream through the model server', async () => {
    const server = await startModelServer({ brain: demoBrain });
    try {
      const res = await fetch(`${server.url}/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ ...request('my name is Ana'), stream: true }),
      });
      const body = await res.text();
      expect(body).toContain('"name":"memory_insert"');
      expect(body).toContain('reasoning_content');
      expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
      expect(server.requests[0]!.source).toBe('brain');
    } finally {
      await server.close();
    }
  });
});
