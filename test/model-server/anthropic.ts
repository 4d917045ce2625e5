/**
 * Anthropic Messages: `POST /v1/messages` with stream: true → SSE `message_start`,
 * `content_block_*` (thinking with its signature, redacted_thinking, text, tool_use with
 * input_json_delta), `message_delta`, `message_stop`; errors as `{type: "error", error: {...}}`,
 * 529 for overloaded.
 */
import { sse, splitChunks, withMalformed, withStreamError, type ChatMessage, type ChatRequest, type ChatTool, type Protocol } from './protocol.js';

type Block = Record<string, unknown> & { type?: string };

const ERROR_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request.'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'The requested resource could not be found.'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
  500: ['api_error', 'An unexpected error has occurred internal to Anthropic’s systems.'],
  529: ['overloaded_error', 'Overloaded'],
};

const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? (content as Block[]).map((block) => (block?.type === 'text' && typeof block.text === 'string' ? block.text : '')).join('')
      : '';

/** The request as a chat request: system blocks, then messages with tool_use / tool_result as tool calls / tool messages. */
function view(raw: Record<string, unknown>): ChatRequest | string {
  if (!Array.isArray(raw.messages)) return 'messages: Field required';
  if (typeof raw.max_tokens !== 'number') return 'max_tokens: Field required';
  const messages: ChatMessage[] = [];
  const system = textOf(raw.system);
  if (system) messages.push({ role: 'system', content: system });
  for (const message of raw.messages as Array<{ role: string; content: unknown }>) {
    const blocks: Block[] = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : ((message.content as Block[]) ?? []);
    if (message.role === 'assistant') {
      const calls = blocks.filter((block) => block.type === 'tool_use');
      messages.push({
        role: 'assistant',
        content: textOf(blocks),
        ...(calls.length ? { tool_calls: calls.map((call) => ({ id: String(call.id), type: 'function' as const, function: { name: String(call.name), arguments: JSON.stringify(call.input ?? {}) } })) } : {}),
      });
      continue;
    }
    for (const block of blocks.filter((entry) => entry.type === 'tool_result')) {
      messages.push({ role: 'tool', tool_call_id: String(block.tool_use_id), content: textOf(block.content) || (typeof block.content === 'string' ? block.content : '') });
    }
    const text = textOf(blocks);
    if (text || !blocks.some((block) => block.type === 'tool_result')) messages.push({ role: 'user', content: text });
  }
  const tools: ChatTool[] = ((raw.tools as Block[] | undefined) ?? []).map((tool) => ({
    type: 'function',
    function: { name: String(tool.name), description: tool.description as string | undefined, parameters: tool.input_schema as ChatTool['function']['parameters'] },
  }));
  return { model: raw.model as string, messages, tools, tool_choice: raw.tool_choice, stream: raw.stream === true };
}

export const anthropic: Protocol = {
  name: 'anthropic',
  toolCallPrefix: 'toolu_',
  streamContentType: 'text/event-stream; charset=utf-8',
  view,
  frames(answer, reply) {
    const frames: string[] = [];
    const event = (type: string, data: Record<string, unknown>) => frames.push(sse({ type, ...data }, type));
    event('message_start', {
      message: {
        id: `msg_${answer.id}`,
        type: 'message',
        role: 'assistant',
        model: answer.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: answer.usage.prompt_tokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    });
    let index = 0;
    if (answer.reasoning !== undefined) {
      event('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      for (const piece of splitChunks(answer.reasoning, answer.chunkSize)) event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } });
      event('content_block_delta', { index, delta: { type: 'signature_delta', signature: answer.signature } });
      event('content_block_stop', { index });
      index++;
    }
    if (answer.redactedReasoning !== undefined) {
      event('content_block_start', { index, content_block: { type: 'redacted_thinking', data: answer.redactedReasoning } });
      event('content_block_stop', { index });
      index++;
    }
    if (answer.text !== undefined) {
      event('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const piece of splitChunks(answer.text, answer.chunkSize)) event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
      event('content_block_stop', { index });
      index++;
    }
    for (const call of answer.toolCalls) {
      event('content_block_start', { index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } });
      for (const piece of splitChunks(call.arguments, answer.chunkSize)) event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
      event('content_block_stop', { index });
      index++;
    }
    const stopReason = { stop: 'end_turn', tool_calls: 'tool_use', length: 'max_tokens' }[answer.finishReason];
    event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: answer.usage.completion_tokens } });
    event('message_stop', {});
    return withMalformed(withStreamError(frames, (error) => sse({ type: 'error', error }, 'error'), reply), 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":\n\n', reply);
  },
  error(status, reply) {
    const [type, message] = ERROR_TYPES[status] ?? (status >= 500 ? ['api_error', 'Internal server error'] : ['invalid_request_error', `Request failed with status ${status}.`]);
    return { body: { type: 'error', error: { type: reply.errorType ?? type, message: reply.errorMessage ?? message } }, headers: { 'request-id': `req_${Date.now()}` } };
  },
};
