import { describe, expect, it } from 'vitest';
import { filterByTypes, toLettaMessageList, toLettaMessages } from '../../src/agent/messages/convert.js';
import type { LettaMessage } from '../../src/agent/messages/letta-types.js';
import type { OpenAIToolCall, StoredMessage } from '../../src/agent/messages/stored.js';
import { deriveOtid, parseToolResponse, textOf, unpackMessage } from '../../src/agent/messages/text.js';
import { pyStr } from '../../src/agent/python-str.js';

const UUID = '12345678-1234-4234-8234-123456789abc';
const MSG_ID = `message-${UUID}`;
const DATE = new Date('2026-03-01T12:00:00.000Z');

let seq = 0n;
function msg(partial: Partial<StoredMessage> & Pick<StoredMessage, 'role'>): StoredMessage {
  seq += 1n;
  return {
    id: MSG_ID,
    agentId: 'agent-00000000-0000-4000-8000-000000000001',
    sequenceId: seq,
    content: null,
    name: null,
    toolCalls: null,
    toolCallId: null,
    toolReturns: null,
    model: 'openai/gpt-4o-mini',
    stepId: 'step-1',
    runId: 'run-1',
    otid: null,
    senderId: null,
    groupId: null,
    isErr: false,
    approvalRequestId: null,
    approve: null,
    denialReason: null,
    approvals: null,
    createdAt: DATE,
    ...partial,
  };
}

function call(id: string, name: string, args: unknown): OpenAIToolCall {
  return {
    id,
    type: 'function',
    function: { name, arguments: typeof args === 'string' ? args : JSON.stringify(args) },
  };
}

function packaged(status: 'OK' | 'Failed', message: unknown): string {
  return JSON.stringify({ status, message, time: '2026-03-01 12:00:00 PM UTC+0000' }, null, 2);
}

const types = (list: LettaMessage[]) => list.map((m) => m.messageType);

describe('deriveOtid', () => {
  it('replaces the low 7 bits of the message UUID with the index', () => {
    expect(deriveOtid(MSG_ID, 0)).toBe('12345678-1234-4234-8234-123456789a80');
    expect(deriveOtid(MSG_ID, 5)).toBe('12345678-1234-4234-8234-123456789a85');
    expect(deriveOtid(MSG_ID, 127)).toBe('12345678-1234-4234-8234-123456789aff');
    expect(deriveOtid('message-00000000-0000-4000-8000-00000000007f', 1)).toBe('00000000-0000-4000-8000-000000000001');
  });

  it('is deterministic and distinct per index; -1 returns the id; out of range throws', () => {
    const all = Array.from({ length: 128 }, (_, i) => deriveOtid(MSG_ID, i));
    expect(new Set(all).size).toBe(128);
    expect(deriveOtid(MSG_ID, 3)).toBe(deriveOtid(MSG_ID, 3));
    expect(deriveOtid(MSG_ID, -1)).toBe(MSG_ID);
    expect(() => deriveOtid(MSG_ID, 128)).toThrow(RangeError);
  });
});

describe('assistant messages', () => {
  it('letta_v1_agent: text → one assistant_message (consecutive text parts joined)', () => {
    const m = msg({
      role: 'assistant',
      content: [
        { type: 'reasoning', is_native: true, reasoning: 'Think. ', signature: 'sig-1' },
        { type: 'text', text: 'Hello' },
        { type: 'text', text: ' world' },
      ],
    });
    const out = toLettaMessages(m, { agentType: 'letta_v1_agent' });
    expect(types(out)).toEqual(['reasoning_message', 'assistant_message']);
    expect(out[0]).toMatchObject({ source: 'reasoner_model', reasoning: 'Think. ', signature: 'sig-1', otid: deriveOtid(MSG_ID, 0) });
    expect(out[1]).toMatchObject({
      id: MSG_ID,
      date: DATE,
      content: 'Hello world',
      otid: deriveOtid(MSG_ID, 1),
      stepId: 'step-1',
      runId: 'run-1',
      isErr: false,
      seqId: Number(m.sequenceId),
    });
  });

  it('letta_v1_agent: tool calls become one tool_call_message when useAssistantMessage is false', () => {
    const m = msg({
      role: 'assistant',
      content: [{ type: 'text', text: 'Let me look.' }],
      toolCalls: [call('call_1', 'web_search', { query: 'x' }), call('call_2', 'archival_memory_search', { query: 'y' })],
    });
    const out = toLettaMessages(m, { agentType: 'letta_v1_agent', useAssistantMessage: false });
    expect(types(out)).toEqual(['assistant_message', 'tool_call_message']);
    const tcm = out[1];
    if (tcm?.messageType !== 'tool_call_message') throw new Error('expected tool_call_message');
    expect(tcm.toolCalls.map((c) => c.toolCallId)).toEqual(['call_1', 'call_2']);
    expect(tcm.toolCall).toEqual({ name: 'web_search', arguments: '{"query":"x"}', toolCallId: 'call_1' });
    expect(tcm.otid).toBe(deriveOtid(MSG_ID, 1));
  });

  it('memgpt_v2_agent: text → reasoning_message, send_message → assistant_message with the message argument', () => {
    const m = msg({
      role: 'assistant',
      content: [{ type: 'text', text: 'User greeted me.' }],
      toolCalls: [call('call_1', 'send_message', { message: 'Hi there!', request_heartbeat: false })],
    });
    const out = toLettaMessages(m, { agentType: 'memgpt_v2_agent' });
    expect(types(out)).toEqual(['reasoning_message', 'assistant_message']);
    expect(out[0]).toMatchObject({ source: 'non_reasoner_model', reasoning: 'User greeted me.', signature: null });
    expect(out[1]).toMatchObject({ content: 'Hi there!', otid: deriveOtid(MSG_ID, 1) });
  });

  it('memgpt_v2_agent: groups other calls around send_message; a send_message without the argument is skipped', () => {
    const m = msg({
      role: 'assistant',
      toolCalls: [
        call('c1', 'core_memory_append', { label: 'human', content: 'x' }),
        call('c2', 'conversation_search', { query: 'y' }),
        call('c3', 'send_message', { message: 'first' }),
        call('c4', 'send_message', { text: 'no kwarg' }),
        call('c5', 'archival_memory_insert', { content: 'z' }),
      ],
    });
    const out = toLettaMessages(m, { agentType: 'memgpt_v2_agent' });
    expect(types(out)).toEqual(['tool_call_message', 'assistant_message', 'tool_call_message']);
    const [a, b, c] = out;
    if (a?.messageType !== 'tool_call_message' || c?.messageType !== 'tool_call_message') throw new Error('shape');
    expect(a.toolCalls.map((t) => t.toolCallId)).toEqual(['c1', 'c2']);
    expect(b).toMatchObject({ messageType: 'assistant_message', content: 'first' });
    expect(c.toolCalls.map((t) => t.toolCallId)).toEqual(['c5']);
    const otids = out.map((o) => o.otid);
    expect(otids).toEqual([0, 1, 2].map((i) => deriveOtid(MSG_ID, i)));
  });

  it('honours assistantMessageToolName/Kwarg and renders non-string arguments like Letta', () => {
    const m = msg({
      role: 'assistant',
      toolCalls: [call('c1', 'reply', { text: { a: 1, b: [true, null] } }), call('c2', 'reply', { text: 42 })],
    });
    const out = toLettaMessages(m, {
      agentType: 'memgpt_agent',
      assistantMessageToolName: 'reply',
      assistantMessageToolKwarg: 'text',
    });
    expect(out.map((o) => (o.messageType === 'assistant_message' ? o.content : null))).toEqual([
      '{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}',
      '42',
    ]);
  });

  it('memgpt_v2_agent with useAssistantMessage=false: send_message stays a tool call', () => {
    const m = msg({
      role: 'assistant',
      toolCalls: [call('c1', 'send_message', { message: 'hi' }), call('c2', 'foo', {})],
    });
    const out = toLettaMessages(m, { agentType: 'memgpt_v2_agent', useAssistantMessage: false });
    expect(types(out)).toEqual(['tool_call_message']);
    if (out[0]?.messageType !== 'tool_call_message') throw new Error('shape');
    expect(out[0].toolCalls.map((t) => t.name)).toEqual(['send_message', 'foo']);
  });

  it('native, redacted, omitted and summarized reasoning', () => {
    const m = msg({
      role: 'assistant',
      senderId: 'identity-1',
      content: [
        { type: 'reasoning', is_native: true, reasoning: 'a', signature: 's1' },
        { type: 'reasoning', is_native: true, reasoning: 'b', signature: 's2' },
        { type: 'redacted_reasoning', data: 'opaque' },
        { type: 'omitted_reasoning' },
        { type: 'summarized_reasoning', id: 'rs_1', summary: [{ index: 0, text: 'x' }, { index: 1, text: 'y' }], encrypted_content: 'enc' },
        { type: 'summarized_reasoning', id: 'rs_2', summary: [{ index: 0, text: '' }] },
        { type: 'tool_call', id: 'c1', name: 'foo', input: {} },
      ],
    });
    const out = toLettaMessages(m, { agentType: 'memgpt_v2_agent' });
    expect(types(out)).toEqual(['reasoning_message', 'hidden_reasoning_message', 'hidden_reasoning_message', 'reasoning_message']);
    // consecutive native parts merge; the first part's signature is kept
    expect(out[0]).toMatchObject({ source: 'reasoner_model', reasoning: 'ab', signature: 's1', senderId: null });
    expect(out[1]).toMatchObject({ state: 'redacted', hiddenReasoning: 'opaque', senderId: 'identity-1', otid: deriveOtid(MSG_ID, 1) });
    expect(out[2]).toMatchObject({ state: 'omitted', hiddenReasoning: null, otid: deriveOtid(MSG_ID, 2) });
    expect(out[3]).toMatchObject({ source: 'reasoner_model', reasoning: 'x\n\ny', signature: 'enc', otid: deriveOtid(MSG_ID, 3) });
  });

  it('reverse flips the per-message order', () => {
    const m = msg({
      role: 'assistant',
      content: [{ type: 'text', text: 'thinking' }],
      toolCalls: [call('c1', 'send_message', { message: 'hi' })],
    });
    const out = toLettaMessages(m, { agentType: 'memgpt_v2_agent', reverse: true });
    expect(types(out)).toEqual(['assistant_message', 'reasoning_message']);
  });
});

describe('tool messages', () => {
  it('tool_returns → tool_return_message with status and text from the packaged response', () => {
    const m = msg({
      role: 'tool',
      name: 'web_search',
      toolCallId: 'call_1',
      content: [{ type: 'text', text: packaged('Failed', 'boom') }],
      toolReturns: [
        { tool_call_id: 'call_1', status: 'error', stdout: ['out'], stderr: ['err'], func_response: packaged('Failed', 'boom') },
      ],
    });
    const [out, ...rest] = toLettaMessages(m, { agentType: 'memgpt_v2_agent' });
    expect(rest).toEqual([]);
    expect(out).toMatchObject({
      messageType: 'tool_return_message',
      name: 'web_search',
      toolReturn: 'boom',
      status: 'error',
      toolCallId: 'call_1',
      stdout: ['out'],
      stderr: ['err'],
      otid: deriveOtid(MSG_ID, 0),
      toolReturns: [
        { type: 'tool', toolReturn: 'boom', toolReturnParts: null, status: 'error', toolCallId: 'call_1', stdout: ['out'], stderr: ['err'] },
      ],
    });
  });

  it('several returns; dict messages are shown as Python str(); list returns keep their parts', () => {
    const m = msg({
      role: 'tool',
      toolReturns: [
        { tool_call_id: 'a', status: 'success', func_response: packaged('OK', { hits: ["it's", 2], ok: true }) },
        { tool_call_id: 'b', status: 'success', func_response: [{ type: 'text', text: 'caption' }, { type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] },
      ],
    });
    const [out] = toLettaMessages(m, { agentType: 'letta_v1_agent' });
    if (out?.messageType !== 'tool_return_message') throw new Error('shape');
    expect(out.toolReturns[0]?.toolReturn).toBe(`{'hits': ["it's", 2], 'ok': True}`);
    expect(out.toolReturns[1]).toMatchObject({ toolReturn: 'caption [Image omitted]', status: 'success', toolCallId: 'b' });
    expect(out.toolReturns[1]?.toolReturnParts).toHaveLength(2);
    expect(out.toolCallId).toBe('a');
  });

  it('legacy tool message with only content', () => {
    const m = msg({ role: 'tool', toolCallId: 'call_9', content: [{ type: 'text', text: packaged('OK', 'done') }] });
    const [out] = toLettaMessages(m, { agentType: 'memgpt_agent' });
    expect(out).toMatchObject({ messageType: 'tool_return_message', toolReturn: 'done', status: 'success', toolCallId: 'call_9' });
  });

  it('a single return without an id takes the message tool_call_id', () => {
    const m = msg({ role: 'tool', toolCallId: 'call_7', toolReturns: [{ tool_call_id: null, status: 'success', func_response: packaged('OK', 'x') }] });
    const [out] = toLettaMessages(m, { agentType: 'letta_v1_agent' });
    expect(out).toMatchObject({ toolCallId: 'call_7', toolReturns: [{ toolCallId: 'call_7' }] });
  });
});

describe('user, system and summary messages', () => {
  it('user text, packed user_message JSON, heartbeats and multi-part content', () => {
    const plain = toLettaMessages(msg({ role: 'user', otid: 'client-otid', content: [{ type: 'text', text: 'hi' }] }), { agentType: 'letta_v1_agent' });
    expect(plain[0]).toMatchObject({ messageType: 'user_message', content: 'hi', contentParts: null, otid: 'client-otid' });

    const packed = JSON.stringify({ type: 'user_message', message: 'hello', time: 'now' });
    expect(toLettaMessages(msg({ role: 'user', content: [{ type: 'text', text: packed }] }), { agentType: 'memgpt_agent' })[0]).toMatchObject({ content: 'hello' });

    const heartbeat = JSON.stringify({ type: 'heartbeat', reason: 'r', time: 't' });
    expect(toLettaMessages(msg({ role: 'user', content: [{ type: 'text', text: heartbeat }] }), { agentType: 'memgpt_agent' })[0]).toMatchObject({ content: heartbeat });

    const parts = [
      { type: 'text' as const, text: 'look' },
      { type: 'image' as const, source: { type: 'url' as const, url: 'https://x/y.png' } },
    ];
    const multi = toLettaMessages(msg({ role: 'user', content: parts }), { agentType: 'letta_v1_agent' });
    expect(multi[0]).toMatchObject({ content: 'look', contentParts: parts });
  });

  it('system message', () => {
    const out = toLettaMessages(msg({ role: 'system', isErr: true, content: [{ type: 'text', text: 'You are…' }] }), { agentType: 'letta_v1_agent' });
    expect(out).toEqual([
      expect.objectContaining({ messageType: 'system_message', content: 'You are…', otid: null, isErr: false }),
    ]);
  });

  it('summary → user_message by default, summary_message on request', () => {
    const text = JSON.stringify({
      type: 'system_alert',
      message: 'Summary of earlier conversation',
      time: 't',
      compaction_stats: { trigger: 'context_window_exceeded', context_tokens_before: 9000, context_window: 8000, messages_count_before: 40, messages_count_after: 5 },
    });
    const m = msg({ role: 'summary', content: [{ type: 'text', text }] });
    expect(toLettaMessages(m, { agentType: 'letta_v1_agent' })[0]).toMatchObject({ messageType: 'user_message', content: text });
    expect(toLettaMessages(m, { agentType: 'letta_v1_agent', convertSummaryToUser: false })[0]).toMatchObject({
      messageType: 'summary_message',
      summary: text,
      compactionStats: {
        trigger: 'context_window_exceeded',
        contextTokensBefore: 9000,
        contextTokensAfter: null,
        contextWindow: 8000,
        messagesCountBefore: 40,
        messagesCountAfter: 5,
      },
    });
  });
});

describe('approval messages', () => {
  it('approval with tool_calls → approval_request_message (after any content parts)', () => {
    const m = msg({
      role: 'approval',
      otid: 'otid-approval',
      content: [{ type: 'text', text: 'I need to run this.' }],
      toolCalls: [call('c1', 'delete_file', { path: '/tmp/x' }), call('c2', 'rm', {})],
    });
    const out = toLettaMessages(m, { agentType: 'letta_v1_agent' });
    expect(types(out)).toEqual(['assistant_message', 'approval_request_message']);
    expect(out[1]).toMatchObject({
      otid: 'otid-approval',
      toolCall: { name: 'delete_file', arguments: '{"path":"/tmp/x"}', toolCallId: 'c1' },
      toolCalls: [{ toolCallId: 'c1' }, { toolCallId: 'c2' }],
    });
  });

  it('approval without tool_calls → approval_response_message from approvals', () => {
    const m = msg({
      role: 'approval',
      approvals: [
        { type: 'tool', tool_call_id: 'c0', status: 'success', func_response: packaged('OK', 'client ran it') },
        { type: 'approval', tool_call_id: 'c1', approve: false, reason: 'too risky' },
        { tool_call_id: 'c2', status: 'error', tool_return: 'plain text result' },
      ],
    });
    const [out, ...rest] = toLettaMessages(m, { agentType: 'letta_v1_agent' });
    expect(rest).toEqual([]);
    expect(out).toMatchObject({
      messageType: 'approval_response_message',
      approve: false,
      approvalRequestId: 'c1',
      reason: 'too risky',
      approvals: [
        { type: 'tool', toolReturn: 'client ran it', status: 'success', toolCallId: 'c0' },
        { type: 'approval', toolCallId: 'c1', approve: false, reason: 'too risky' },
        { type: 'tool', toolReturn: 'plain text result', status: 'error', toolCallId: 'c2' },
      ],
    });
  });

  it('legacy approval fields', () => {
    const m = msg({ role: 'approval', approve: true, approvalRequestId: 'c9', denialReason: null });
    expect(toLettaMessages(m, { agentType: 'memgpt_v2_agent' })[0]).toMatchObject({
      messageType: 'approval_response_message',
      approve: true,
      approvalRequestId: 'c9',
      reason: null,
      approvals: [{ type: 'approval', toolCallId: 'c9', approve: true, reason: null }],
    });
  });
});

describe('lists', () => {
  const assistantId = 'message-aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
  const turn = (): StoredMessage[] => [
    msg({ id: 'message-00000000-0000-4000-8000-000000000001', role: 'user', content: [{ type: 'text', text: 'hi' }] }),
    msg({
      id: assistantId,
      role: 'assistant',
      content: [{ type: 'text', text: 'greet back' }],
      toolCalls: [call('call_send', 'send_message', { message: 'Hello!' })],
    }),
    msg({
      id: 'message-bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
      role: 'tool',
      toolCallId: 'call_send',
      toolReturns: [{ tool_call_id: 'call_send', status: 'success', func_response: packaged('OK', 'None') }],
    }),
    msg({
      id: 'message-cccccccc-cccc-4ccc-8ccc-cccccccccccc',
      role: 'assistant',
      toolCalls: [call('call_search', 'conversation_search', { query: 'x' })],
    }),
    msg({
      id: 'message-dddddddd-dddd-4ddd-8ddd-dddddddddddd',
      role: 'tool',
      toolCallId: 'call_search',
      toolReturns: [{ tool_call_id: 'call_search', status: 'success', func_response: packaged('OK', 'found') }],
    }),
  ];

  it("drops send_message's tool return when useAssistantMessage", () => {
    const out = toLettaMessageList(turn(), { agentType: 'memgpt_v2_agent' });
    expect(types(out)).toEqual([
      'user_message',
      'reasoning_message',
      'assistant_message',
      'tool_call_message',
      'tool_return_message',
    ]);
    expect(out[4]).toMatchObject({ toolCallId: 'call_search' });
  });

  it('keeps every return when useAssistantMessage is false', () => {
    const out = toLettaMessageList(turn(), { agentType: 'memgpt_v2_agent', useAssistantMessage: false });
    expect(types(out)).toEqual([
      'user_message',
      'reasoning_message',
      'tool_call_message',
      'tool_return_message',
      'tool_call_message',
      'tool_return_message',
    ]);
  });

  it('keeps the return when the send_message call is not in the list (as Letta does)', () => {
    const out = toLettaMessageList(turn().slice(2), { agentType: 'memgpt_v2_agent' });
    expect(types(out)[0]).toBe('tool_return_message');
  });

  it('filters by includeReturnMessageTypes', () => {
    const out = toLettaMessageList(turn(), { agentType: 'memgpt_v2_agent', includeReturnMessageTypes: ['assistant_message', 'tool_return_message'] });
    expect(types(out)).toEqual(['assistant_message', 'tool_return_message']);
  });
});

describe('filterByTypes', () => {
  const list = [{ messageType: 'assistant_message' }, { messageType: 'reasoning_message' }, { messageType: 'tool_call_message' }];
  it('keeps everything for null/undefined and only the listed types otherwise', () => {
    expect(filterByTypes(list)).toEqual(list);
    expect(filterByTypes(list, null)).toEqual(list);
    expect(filterByTypes(list, ['reasoning_message', 'tool_call_message']).map((m) => m.messageType)).toEqual([
      'reasoning_message',
      'tool_call_message',
    ]);
    expect(filterByTypes(list, [])).toEqual([]);
  });
});

describe('helpers', () => {
  it('textOf, unpackMessage, pyStr, parseToolResponse', () => {
    expect(textOf([{ type: 'text', text: 'a' }, { type: 'redacted_reasoning', data: 'x' }, { type: 'text', text: 'b' }])).toBe('a\nb');
    expect(textOf('s')).toBe('s');
    expect(textOf(null)).toBe('');
    expect(unpackMessage('not json')).toBe('not json');
    expect(pyStr({ a: 'x\ny', b: null, c: [1.5, false] })).toBe(`{'a': 'x\\ny', 'b': None, 'c': [1.5, False]}`);
    expect(parseToolResponse('{"message": "m"}')).toEqual({ message: 'm', status: 'success' });
    expect(parseToolResponse('{"status": "Failed"}')).toEqual({ message: '{"status": "Failed"}', status: 'error' });
    expect(parseToolResponse('raw', 'error')).toEqual({ message: 'raw', status: 'error' });
  });
});
