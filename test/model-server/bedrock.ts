/**
 * Amazon Bedrock ConverseStream: `POST /model/{modelId}/converse-stream`, answered with the
 * binary AWS event-stream (`application/vnd.amazon.eventstream`): messageStart,
 * contentBlockStart/Delta/Stop (reasoningContent text + signature, text, toolUse), messageStop,
 * metadata; exceptions as frames of message-type `exception`. Requests must carry a valid AWS
 * Signature Version 4, checked here from the specification (no AWS code involved).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import { splitChunks, withMalformed, withStreamError, type ChatMessage, type ChatRequest, type ChatTool, type Protocol } from './protocol.js';

type Block = Record<string, unknown>;

// --- event-stream encoding (prelude, string headers, payload, two CRC32s) ---------------------

function header(name: string, value: string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const valueBytes = Buffer.from(value, 'utf8');
  const out = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
  out.writeUInt8(nameBytes.length, 0);
  nameBytes.copy(out, 1);
  out.writeUInt8(7, 1 + nameBytes.length); // type 7: string
  out.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
  valueBytes.copy(out, 4 + nameBytes.length);
  return out;
}

export function eventFrame(headers: Record<string, string>, payload: string): Buffer {
  const headerBytes = Buffer.concat(Object.entries(headers).map(([name, value]) => header(name, value)));
  const body = Buffer.from(payload, 'utf8');
  const total = 12 + headerBytes.length + body.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headerBytes.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(zlib.crc32(prelude), 0);
  const withoutCrc = Buffer.concat([prelude, preludeCrc, headerBytes, body]);
  const messageCrc = Buffer.alloc(4);
  messageCrc.writeUInt32BE(zlib.crc32(withoutCrc), 0);
  return Buffer.concat([withoutCrc, messageCrc]);
}

const event = (type: string, payload: unknown) => eventFrame({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, JSON.stringify(payload));
const exception = (type: string, message: string) => eventFrame({ ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' }, JSON.stringify({ message }));

// --- SigV4 ------------------------------------------------------------------------------------

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const rfc3986 = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Checks AWS Signature Version 4 of a request; undefined when valid, else what is wrong. */
export function verifySigV4(req: IncomingMessage, body: string, secretAccessKey: string): string | undefined {
  const auth = req.headers.authorization ?? '';
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!match) return 'Missing or malformed SigV4 Authorization header';
  const [, , date, region, service, signedHeaders, signature] = match as unknown as string[];
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date!)) return 'x-amz-date does not match the credential scope';
  const url = new URL(req.url ?? '/', 'http://localhost');
  // Services other than S3 encode each path segment twice.
  const path = url.pathname.split('/').map((segment) => rfc3986(segment)).join('/');
  const query = [...url.searchParams].map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).sort().join('&');
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names.map((name) => `${name}:${String(req.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? sha256(body));
  const canonical = [req.method, path, query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date!), region!), service!), 'aws4_request');
  const expected = createHmac('sha256', key).update(toSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature!, 'hex'))) return 'The request signature we calculated does not match the signature you provided.';
  return undefined;
}

// --- protocol ---------------------------------------------------------------------------------

const textOf = (content: Block[] | undefined) => (content ?? []).map((block) => (typeof block.text === 'string' ? block.text : '')).join('');

function view(raw: Record<string, unknown>, model: string | undefined): ChatRequest | string {
  if (!Array.isArray(raw.messages)) return 'messages: must not be null';
  const messages: ChatMessage[] = [];
  const system = textOf(raw.system as Block[] | undefined);
  if (system) messages.push({ role: 'system', content: system });
  for (const message of raw.messages as Array<{ role: string; content: Block[] }>) {
    const content = message.content ?? [];
    if (message.role === 'assistant') {
      const calls = content.filter((block) => block.toolUse).map((block) => block.toolUse as { toolUseId: string; name: string; input: unknown });
      messages.push({
        role: 'assistant',
        content: textOf(content),
        ...(calls.length ? { tool_calls: calls.map((call) => ({ id: call.toolUseId, type: 'function' as const, function: { name: call.name, arguments: JSON.stringify(call.input ?? {}) } })) } : {}),
      });
      continue;
    }
    for (const block of content.filter((entry) => entry.toolResult)) {
      const result = block.toolResult as { toolUseId: string; content?: Block[] };
      messages.push({ role: 'tool', tool_call_id: result.toolUseId, content: textOf(result.content) });
    }
    const text = textOf(content);
    if (text || !content.some((block) => block.toolResult)) messages.push({ role: 'user', content: text });
  }
  const specs = ((raw.toolConfig as { tools?: Block[] } | undefined)?.tools ?? []).filter((tool) => tool.toolSpec).map((tool) => tool.toolSpec as Block);
  const tools: ChatTool[] = specs.map((spec) => ({ type: 'function', function: { name: String(spec.name), description: spec.description as string | undefined, parameters: (spec.inputSchema as { json?: ChatTool['function']['parameters'] } | undefined)?.json } }));
  return { model, messages, tools, tool_choice: (raw.toolConfig as { toolChoice?: unknown } | undefined)?.toolChoice, stream: true };
}

const ERRORS: Record<number, string> = {
  400: 'ValidationException',
  401: 'UnrecognizedClientException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

export const bedrock: Protocol = {
  name: 'bedrock',
  toolCallPrefix: 'tooluse_',
  streamContentType: 'application/vnd.amazon.eventstream',
  view,
  frames(answer, reply) {
    const frames: Buffer[] = [event('messageStart', { role: 'assistant' })];
    let index = 0;
    if (answer.reasoning !== undefined) {
      for (const piece of splitChunks(answer.reasoning, answer.chunkSize)) frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { text: piece } } }));
      frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { signature: answer.signature } } }));
      frames.push(event('contentBlockStop', { contentBlockIndex: index }));
      index++;
    }
    if (answer.text !== undefined) {
      for (const piece of splitChunks(answer.text, answer.chunkSize)) frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } }));
      frames.push(event('contentBlockStop', { contentBlockIndex: index }));
      index++;
    }
    for (const call of answer.toolCalls) {
      frames.push(event('contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId: call.id, name: call.name } } }));
      for (const piece of splitChunks(call.arguments, answer.chunkSize)) frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: piece } } }));
      frames.push(event('contentBlockStop', { contentBlockIndex: index }));
      index++;
    }
    frames.push(event('messageStop', { stopReason: { stop: 'end_turn', tool_calls: 'tool_use', length: 'max_tokens' }[answer.finishReason] }));
    frames.push(event('metadata', { usage: { inputTokens: answer.usage.prompt_tokens, outputTokens: answer.usage.completion_tokens, totalTokens: answer.usage.total_tokens }, metrics: { latencyMs: 1 } }));
    return withMalformed(withStreamError(frames, (error) => exception(/Exception$/.test(error.type) ? error.type : 'serviceUnavailableException', error.message), reply), eventFrame({ ':event-type': 'contentBlockDelta', ':content-type': 'application/json', ':message-type': 'event' }, '{"contentBlockIndex":0,"delta":{"text":'), reply);
  },
  error(status, reply) {
    const type = reply.errorType ?? ERRORS[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException');
    return { body: { message: reply.errorMessage ?? `${type}: scripted failure` }, headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` } };
  },
};
