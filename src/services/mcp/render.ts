import { pyRepr } from '../../agent/python-str.js';

/**
 * What the model sees of an MCP tool result, as Letta renders it (letta/services/mcp/base_client
 * `execute_tool`): text parts as they are, any other part as Python's str() of the MCP SDK's
 * pydantic model (`type='image' data='…' mimeType='image/png' annotations=None meta=None`),
 * joined by one space; no parts at all → "Empty response from tool". One addition: a result that
 * has only `structuredContent` shows it as JSON (the MCP spec asks servers to send it as text
 * too, which most do; Letta would show "Empty response from tool").
 */

export const EMPTY_RESPONSE = 'Empty response from tool';

type Part = Record<string, unknown>;

/** Field order of the pydantic models in the MCP Python SDK (mcp.types). */
const FIELDS: Record<string, string[]> = {
  image: ['type', 'data', 'mimeType', 'annotations', 'meta'],
  audio: ['type', 'data', 'mimeType', 'annotations', 'meta'],
  resource: ['type', 'resource', 'annotations', 'meta'],
  resource_link: ['name', 'title', 'uri', 'description', 'mimeType', 'size', 'icons', 'annotations', 'meta', 'type'],
};

/** repr() of a value nested in a model: embedded resources are models too. */
function nestedRepr(key: string, value: unknown): string {
  if (key === 'resource' && value && typeof value === 'object') {
    const resource = value as Part;
    const isText = typeof resource.text === 'string';
    const fields = ['uri', 'mimeType', 'meta', isText ? 'text' : 'blob'];
    const body = fields.map((field) => `${field}=${field === 'uri' ? `AnyUrl(${pyRepr(resource.uri)})` : pyRepr(fieldOf(resource, field))}`).join(', ');
    return `${isText ? 'TextResourceContents' : 'BlobResourceContents'}(${body})`;
  }
  if (key === 'uri' && typeof value === 'string') return `AnyUrl(${pyRepr(value)})`;
  return pyRepr(value ?? null);
}

const fieldOf = (part: Part, field: string) => (field === 'meta' ? (part._meta ?? null) : (part[field] ?? null));

/** Python's str() of a pydantic model: `field=repr(value)` separated by spaces. */
function pydanticStr(part: Part): string {
  const fields = FIELDS[String(part.type)] ?? Object.keys(part).map((key) => (key === '_meta' ? 'meta' : key));
  return fields.map((field) => `${field}=${nestedRepr(field, fieldOf(part, field))}`).join(' ');
}

export interface RenderedResult {
  text: string;
  isError: boolean;
}

export function renderToolResult(result: { content?: unknown; structuredContent?: unknown; isError?: unknown; toolResult?: unknown }): RenderedResult {
  const parts = Array.isArray(result.content) ? (result.content as Part[]) : [];
  const rendered = parts.map((part) => (part?.type === 'text' && typeof part.text === 'string' ? part.text : pydanticStr(part ?? {})));
  let text = rendered.join(' ');
  if (!rendered.length) {
    // Old servers (protocol 2024-10-07) answer { toolResult }.
    const other = result.structuredContent ?? result.toolResult;
    text = other === undefined ? EMPTY_RESPONSE : typeof other === 'string' ? other : JSON.stringify(other);
  }
  return { text, isError: result.isError === true };
}
