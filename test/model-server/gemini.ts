/**
 * Gemini API: `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` → SSE
 * `GenerateContentResponse` chunks (thought parts, text parts, whole functionCall parts, each
 * possibly with a thoughtSignature), the last with finishReason and usageMetadata. Errors as
 * `{error: {code, message, status}}`. Function calls carry no id on this protocol: the view
 * uses the function name as the tool call id.
 */
import { sse, splitChunks, withMalformed, withStreamError, type ChatMessage, type ChatRequest, type ChatTool, type Protocol } from './protocol.js';

type Part = Record<string, unknown> & { text?: string; thought?: boolean; functionCall?: { name: string; args?: unknown }; functionResponse?: { name: string; response?: unknown } };

const STATUS: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: ['UNAUTHENTICATED', 'API key not valid. Please pass a valid API key.'],
  403: ['PERMISSION_DENIED', 'Permission denied.'],
  404: ['NOT_FOUND', 'models/unknown is not found for API version v1beta.'],
  429: ['RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
  500: ['INTERNAL', 'An internal error has occurred.'],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
};

function view(raw: Record<string, unknown>, model: string | undefined): ChatRequest | string {
  if (!Array.isArray(raw.contents)) return "Invalid JSON payload received. Unknown name \"contents\"";
  const messages: ChatMessage[] = [];
  const system = ((raw.systemInstruction as { parts?: Part[] } | undefined)?.parts ?? []).map((part) => part.text ?? '').join('');
  if (system) messages.push({ role: 'system', content: system });
  for (const content of raw.contents as Array<{ role?: string; parts?: Part[] }>) {
    const parts = content.parts ?? [];
    const text = parts.filter((part) => typeof part.text === 'string' && !part.thought).map((part) => part.text).join('');
    if (content.role === 'model') {
      const calls = parts.filter((part) => part.functionCall);
      messages.push({
        role: 'assistant',
        content: text,
        ...(calls.length ? { tool_calls: calls.map((part) => ({ id: part.functionCall!.name, type: 'function' as const, function: { name: part.functionCall!.name, arguments: JSON.stringify(part.functionCall!.args ?? {}) } })) } : {}),
      });
      continue;
    }
    for (const part of parts.filter((entry) => entry.functionResponse)) {
      const response = part.functionResponse!.response as { content?: unknown } | undefined;
      messages.push({ role: 'tool', tool_call_id: part.functionResponse!.name, content: typeof response?.content === 'string' ? response.content : JSON.stringify(response ?? {}) });
    }
    if (text || !parts.some((part) => part.functionResponse)) messages.push({ role: 'user', content: text });
  }
  const declarations = ((raw.tools as Array<{ functionDeclarations?: Array<Record<string, unknown>> }> | undefined) ?? []).flatMap((tool) => tool.functionDeclarations ?? []);
  const tools: ChatTool[] = declarations.map((tool) => ({ type: 'function', function: { name: String(tool.name), description: tool.description as string | undefined, parameters: tool.parameters as ChatTool['function']['parameters'] } }));
  return { model, messages, tools, tool_choice: raw.toolConfig, stream: true };
}

export const gemini: Protocol = {
  name: 'gemini',
  toolCallPrefix: '',
  streamContentType: 'text/event-stream',
  view,
  frames(answer, reply) {
    const chunk = (parts: Part[], last = false) =>
      sse({
        candidates: [{ content: { role: 'model', parts }, index: 0, ...(last ? { finishReason: answer.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP' } : {}) }],
        ...(last
          ? {
              usageMetadata: {
                promptTokenCount: answer.usage.prompt_tokens,
                candidatesTokenCount: answer.usage.completion_tokens,
                totalTokenCount: answer.usage.total_tokens,
                ...(answer.reasoning ? { thoughtsTokenCount: Math.ceil(answer.reasoning.length / 4) } : {}),
              },
            }
          : {}),
        modelVersion: answer.model,
        responseId: answer.id,
      });
    const frames: string[] = [];
    const thoughts = splitChunks(answer.reasoning ?? '', answer.chunkSize);
    thoughts.forEach((piece, index) => frames.push(chunk([{ text: piece, thought: true, ...(index === thoughts.length - 1 ? { thoughtSignature: answer.signature } : {}) }])));
    for (const piece of splitChunks(answer.text ?? '', answer.chunkSize)) frames.push(chunk([{ text: piece }]));
    // Gemini sends function calls whole; the first carries the signature of the turn's thinking.
    const calls: Part[] = answer.toolCalls.map((call, index) => {
      let args: unknown;
      try {
        args = JSON.parse(call.arguments);
      } catch {
        args = call.arguments; // not an object: the SDK must refuse it
      }
      return { functionCall: { name: call.name, args }, ...(index === 0 && answer.reasoning !== undefined ? { thoughtSignature: answer.signature } : {}) };
    });
    frames.push(chunk(calls.length ? calls : [{ text: '' }], true));
    return withMalformed(withStreamError(frames, (error) => sse({ error: { code: 503, message: error.message, status: error.type } }), reply), 'data: {"candidates":[{"content":{"role":"model","parts":[{"text":\n\n', reply);
  },
  error(status, reply) {
    const [code, message] = STATUS[status] ?? (status >= 500 ? ['INTERNAL', 'Internal error'] : ['INVALID_ARGUMENT', `Request failed with status ${status}.`]);
    return { body: { error: { code: status, message: reply.errorMessage ?? message, status: reply.errorType ?? code } } };
  },
};
