/**
 * OpenAI Responses: `POST /v1/responses` with stream: true → SSE `response.created`, output items
 * (a reasoning item with its summary and encrypted_content, a message, function calls) with their
 * deltas, then `response.completed` (or `response.incomplete`) with usage. Azure OpenAI's v1 API
 * is the same protocol under `/openai/v1/responses`.
 */
import { openaiError } from './openai-chat.js';
import { sse, splitChunks, withMalformed, withStreamError, type ChatMessage, type ChatRequest, type ChatTool, type Protocol } from './protocol.js';

type Item = Record<string, unknown> & { type?: string; role?: string };

const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? (content as Item[]).map((part) => (typeof part?.text === 'string' ? part.text : '')).join('')
      : '';

function view(raw: Record<string, unknown>): ChatRequest | string {
  if (!Array.isArray(raw.input) && typeof raw.input !== 'string') return "Invalid request: 'input' must be a string or an array.";
  const messages: ChatMessage[] = [];
  if (typeof raw.instructions === 'string') messages.push({ role: 'system', content: raw.instructions });
  const items: Item[] = typeof raw.input === 'string' ? [{ role: 'user', content: raw.input }] : (raw.input as Item[]);
  for (const item of items) {
    if (item.role) {
      messages.push({ role: item.role as ChatMessage['role'], content: textOf(item.content) });
    } else if (item.type === 'function_call') {
      const last = messages.at(-1);
      const call = { id: String(item.call_id), type: 'function' as const, function: { name: String(item.name), arguments: String(item.arguments ?? '') } };
      if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
      else messages.push({ role: 'assistant', content: '', tool_calls: [call] });
    } else if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: String(item.call_id), content: typeof item.output === 'string' ? item.output : textOf(item.output) });
    }
  }
  const tools: ChatTool[] = ((raw.tools as Item[] | undefined) ?? [])
    .filter((tool) => tool.type === 'function')
    .map((tool) => ({ type: 'function', function: { name: String(tool.name), description: tool.description as string | undefined, parameters: tool.parameters as ChatTool['function']['parameters'] } }));
  return { model: raw.model as string, messages, tools, tool_choice: raw.tool_choice, stream: raw.stream === true };
}

export const openaiResponses: Protocol = {
  name: 'openai-responses',
  toolCallPrefix: 'call_',
  streamContentType: 'text/event-stream; charset=utf-8',
  view,
  frames(answer, reply) {
    const frames: string[] = [];
    let sequence = 0;
    const event = (type: string, data: Record<string, unknown>) => frames.push(sse({ type, sequence_number: sequence++, ...data }, type));
    const response = { id: `resp_${answer.id}`, object: 'response', created_at: Math.floor(Date.now() / 1000), model: answer.model, status: 'in_progress', output: [] };
    event('response.created', { response });
    let output = 0;
    if (answer.reasoning !== undefined) {
      const id = `rs_${answer.id}`;
      event('response.output_item.added', { output_index: output, item: { type: 'reasoning', id, summary: [], encrypted_content: null } });
      event('response.reasoning_summary_part.added', { item_id: id, output_index: output, summary_index: 0, part: { type: 'summary_text', text: '' } });
      for (const piece of splitChunks(answer.reasoning, answer.chunkSize)) event('response.reasoning_summary_text.delta', { item_id: id, output_index: output, summary_index: 0, delta: piece });
      event('response.reasoning_summary_text.done', { item_id: id, output_index: output, summary_index: 0, text: answer.reasoning });
      event('response.reasoning_summary_part.done', { item_id: id, output_index: output, summary_index: 0, part: { type: 'summary_text', text: answer.reasoning } });
      event('response.output_item.done', { output_index: output, item: { type: 'reasoning', id, summary: [{ type: 'summary_text', text: answer.reasoning }], encrypted_content: answer.signature } });
      output++;
    }
    if (answer.text !== undefined) {
      const id = `msg_${answer.id}`;
      event('response.output_item.added', { output_index: output, item: { type: 'message', id, role: 'assistant', status: 'in_progress', content: [] } });
      event('response.content_part.added', { item_id: id, output_index: output, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      for (const piece of splitChunks(answer.text, answer.chunkSize)) event('response.output_text.delta', { item_id: id, output_index: output, content_index: 0, delta: piece, logprobs: [] });
      event('response.output_text.done', { item_id: id, output_index: output, content_index: 0, text: answer.text });
      event('response.output_item.done', { output_index: output, item: { type: 'message', id, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: answer.text, annotations: [] }] } });
      output++;
    }
    for (const call of answer.toolCalls) {
      const id = `fc_${call.id}`;
      event('response.output_item.added', { output_index: output, item: { type: 'function_call', id, call_id: call.id, name: call.name, arguments: '', status: 'in_progress' } });
      for (const piece of splitChunks(call.arguments, answer.chunkSize)) event('response.function_call_arguments.delta', { item_id: id, output_index: output, delta: piece });
      event('response.function_call_arguments.done', { item_id: id, output_index: output, arguments: call.arguments });
      event('response.output_item.done', { output_index: output, item: { type: 'function_call', id, call_id: call.id, name: call.name, arguments: call.arguments, status: 'completed' } });
      output++;
    }
    const usage = {
      input_tokens: answer.usage.prompt_tokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: answer.usage.completion_tokens,
      output_tokens_details: { reasoning_tokens: answer.reasoning ? Math.ceil(answer.reasoning.length / 4) : 0 },
      total_tokens: answer.usage.total_tokens,
    };
    if (answer.finishReason === 'length') {
      event('response.incomplete', { response: { ...response, status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage } });
    } else {
      event('response.completed', { response: { ...response, status: 'completed', incomplete_details: null, usage } });
    }
    return withMalformed(withStreamError(frames, (error) => sse({ type: 'error', sequence_number: sequence, code: error.type, message: error.message, param: null }, 'error'), reply), 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":\n\n', reply);
  },
  error: openaiError,
};
