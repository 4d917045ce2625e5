/**
 * OpenAI Chat Completions: `POST /v1/chat/completions`. stream: true → SSE
 * `chat.completion.chunk`s + `data: [DONE]`, otherwise one `chat.completion` object.
 */
import { randomId, sse, splitChunks, withMalformed, withStreamError, type Answer, type ChatRequest, type Protocol, type Reply } from './protocol.js';

function errorDefaults(status: number): { type: string; code: string | null; message: string } {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', code: 'invalid_request', message: 'Invalid request.' };
    case 401:
      return { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' };
    case 403:
      return { type: 'permission_error', code: 'permission_denied', message: 'You are not allowed to use this model.' };
    case 404:
      return { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' };
    case 429:
      return { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' };
    case 503:
      return { type: 'server_error', code: 'service_unavailable', message: 'The server is overloaded or not ready yet.' };
    default:
      return status >= 500
        ? { type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request.' }
        : { type: 'invalid_request_error', code: null, message: `Request failed with status ${status}.` };
  }
}

/** OpenAI's error body (shared with the Responses API). */
export function openaiError(status: number, reply: Reply) {
  const defaults = errorDefaults(status);
  return {
    body: {
      error: {
        message: reply.errorMessage ?? defaults.message,
        type: reply.errorType ?? defaults.type,
        param: null,
        code: reply.errorCode ?? defaults.code,
      },
    },
    headers: { 'x-request-id': randomId('req_'), ...(status === 429 && reply.retryAfter === undefined ? { 'retry-after-ms': '0' } : {}) },
  };
}

export const openaiChat: Protocol = {
  name: 'openai-chat',
  toolCallPrefix: 'call_',
  streamContentType: 'text/event-stream; charset=utf-8',
  view(raw) {
    if (!Array.isArray(raw.messages)) return "Invalid request: 'messages' must be an array.";
    return raw as ChatRequest;
  },
  frames(answer, reply, request) {
    const includeUsage = request.stream_options?.include_usage === true;
    const created = Math.floor(Date.now() / 1000);
    const id = `chatcmpl-${answer.id}`;
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: answer.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });
    const events: Array<object> = [];
    const textFirst = !answer.reasoning && answer.text !== undefined;
    events.push(chunk({ role: 'assistant', content: textFirst ? '' : null }));
    for (const piece of splitChunks(answer.reasoning ?? '', answer.chunkSize)) events.push(chunk({ reasoning_content: piece }));
    for (const piece of splitChunks(answer.text ?? '', answer.chunkSize)) events.push(chunk({ content: piece }));
    answer.toolCalls.forEach((call, index) => {
      events.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
      for (const piece of splitChunks(call.arguments, answer.chunkSize)) events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    });
    const finish = chunk({}, answer.finishReason);
    if (answer.usageGiven && !includeUsage) finish.usage = answer.usage;
    events.push(finish);
    if (includeUsage) events.push({ id, object: 'chat.completion.chunk', created, model: answer.model, choices: [], usage: answer.usage });
    const frames = events.map((event) => sse(event));
    return [...withMalformed(withStreamError(frames, (error) => sse({ error: { ...error, code: error.type } }), reply), sse(`{"id":"${id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":`), reply), 'data: [DONE]\n\n'];
  },
  error: openaiError,
};

/** The non-streamed `chat.completion` body. */
export function completionBody(answer: Answer): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: answer.text ?? null, refusal: null };
  if (answer.reasoning !== undefined) message.reasoning_content = answer.reasoning;
  if (answer.toolCalls.length > 0) {
    message.tool_calls = answer.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  }
  return {
    id: `chatcmpl-${answer.id}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: answer.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: answer.finishReason }],
    usage: answer.usage,
  };
}
