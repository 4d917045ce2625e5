import { pyStr } from '../python-str.js';
import type { ContentPart, TextPart } from './stored.js';

/** Text helpers shared by the conversions: Letta's otids, text extraction, packed JSON. */

/**
 * Letta's `Message.generate_otid_from_id`: the message UUID with its low 7 bits replaced by
 * `index` (0–127), formatted as a bare UUID. Index -1 returns the message id unchanged.
 */
export function deriveOtid(messageId: string, index: number): string {
  if (index === -1) return messageId;
  if (!Number.isInteger(index) || index < 0 || index >= 128) {
    throw new RangeError('Index must be between 0 and 127');
  }
  const hex = messageId.replaceAll('message-', '').replaceAll('-', '');
  if (!/^[0-9a-fA-F]{1,32}$/.test(hex)) throw new TypeError(`Not a message UUID: ${messageId}`);
  const value = (BigInt(`0x${hex}`) & ~0x7fn) | BigInt(index);
  const s = value.toString(16).padStart(32, '0');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** The text parts of a content list joined with `separator` (a string passes through). */
export function textOf(content: string | readonly ContentPart[] | null | undefined, separator = '\n'): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((part): part is TextPart => part.type === 'text')
    .map((part) => part.text)
    .join(separator);
}

/** The text of a message whose content is exactly one text part, else null. */
export function singleText(content: readonly ContentPart[] | null | undefined): string | null {
  if (content && content.length === 1 && content[0]?.type === 'text') return content[0].text;
  return null;
}

/** letta/schemas/message.py `tool_return_to_text`: text parts joined by newlines, images as placeholders. */
export function toolReturnToText(value: string | readonly ContentPart[] | null | undefined): string | null {
  if (value == null) return null;
  if (typeof value === 'string') return value;
  const texts = value.filter((p): p is TextPart => p.type === 'text' && p.text !== '').map((p) => p.text);
  const images = value.filter((p) => p.type === 'image').length;
  let result = texts.join('\n');
  if (images > 0) {
    const placeholder = images === 1 ? '[Image omitted]' : `[${images} images omitted]`;
    result = result ? `${result} ${placeholder}` : placeholder;
  }
  return result || null;
}

/**
 * letta/system.py `unpack_message`: a packed `{"type":"user_message","message":…}` JSON yields its
 * message; anything else (heartbeats, system alerts, plain text) is returned unchanged.
 */
export function unpackMessage(packed: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(packed);
  } catch {
    return packed;
  }
  if (!isPlainObject(parsed) || !('message' in parsed) || parsed.type !== 'user_message') return packed;
  const message = parsed.message;
  return typeof message === 'string' ? message : pyStr(message);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return isPlainObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * letta/utils.py `validate_function_response(value, 0, truncate=False)` as used for the
 * send_message argument, followed by `json_dumps` when the result is a dict.
 */
export function assistantContentOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isPlainObject(value)) return JSON.stringify(value, null, 2);
  return pyStr(value);
}

/** Letta's `_parse_tool_status`. */
function parseToolStatus(status: unknown): 'success' | 'error' | null {
  if (status === 'OK') return 'success';
  if (status === 'Failed') return 'error';
  return null;
}

/**
 * Letta's `Message._parse_tool_response`: the packaged `{"status","message","time"}` JSON gives
 * the text (`message`, else the whole string) and the status (`OK` → success, `Failed` → error,
 * missing → success). Letta raises on a string that is not a JSON object or on an unknown
 * status; here the raw text and `fallbackStatus` are used instead.
 */
export function parseToolResponse(
  response: string | readonly ContentPart[] | null | undefined,
  fallbackStatus: 'success' | 'error' = 'success',
): { message: string; status: 'success' | 'error' } {
  if (Array.isArray(response)) {
    return { message: toolReturnToText(response) ?? '[Multi-modal content]', status: 'success' };
  }
  if (typeof response !== 'string') return { message: '', status: fallbackStatus };
  const parsed = parseJsonObject(response);
  if (parsed === null) return { message: response, status: fallbackStatus };
  const message = 'message' in parsed ? pyStr(parsed.message) : response;
  const status = 'status' in parsed ? (parseToolStatus(parsed.status) ?? fallbackStatus) : 'success';
  return { message, status };
}
