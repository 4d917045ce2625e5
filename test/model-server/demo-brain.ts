/**
 * A rule-based "model" for `npm run demo`: it lets a newcomer watch streaming, tool calls and
 * memory edits without an API key. It only reads the request (system prompt, messages, tools):
 *
 *   1. the last thing that happened was a tool result  → a short acknowledgement
 *   2. "my name is X" / "remember …"                    → memory_insert into the human block
 *   3. "slow" / "long"                                  → a long answer, streamed slowly (cancel it!)
 *   4. "approve" + a non-built-in tool is offered       → call that tool with schema-derived args
 *   5. anything else                                    → a friendly reply saying what it remembers
 *
 * Agents that talk through `send_message` (memgpt agents) get their replies as a `send_message`
 * tool call instead of plain text.
 */
import { messageText, toolNames, systemText, type Brain, type ChatMessage, type ChatRequest, type JsonSchema, type Reply } from './server.js';

/** Tools the server provides itself; anything else offered is a custom, client-side or approval tool. */
const BUILTIN_TOOLS = new Set([
  'send_message',
  'conversation_search',
  'archival_memory_insert',
  'archival_memory_search',
  'core_memory_append',
  'core_memory_replace',
  'memory',
  'memory_insert',
  'memory_replace',
  'memory_rethink',
  'memory_finish_edits',
  'memory_apply_patch',
  'open_files',
  'grep_files',
  'semantic_search_files',
  'run_code',
  'run_code_with_tools',
  'web_search',
  'fetch_webpage',
]);

const MEMORY_TOOLS = new Set(['memory_insert', 'memory_replace', 'core_memory_append', 'core_memory_replace', 'memory_rethink', 'memory', 'memory_apply_patch', 'archival_memory_insert']);

const STREAM_DELAY_MS = 30;
const SLOW_DELAY_MS = 150;

const LONG_ANSWER =
  'Here is a deliberately long answer, streamed slowly so that you can watch the tokens arrive one small piece at a time. ' +
  'While it streams, try cancelling the run from another tab: the server aborts the model request mid-stream and the run ends cancelled. ' +
  'If you let it finish, the whole reply is saved to the conversation like any other message.';

// --- reading the request -----------------------------------------------------------------------

/** Letta wraps user input and loop signals in JSON (`{"type":"user_message","message":…}`, heartbeats, system alerts). */
function parseUserPayload(text: string): { type?: string; message?: string } | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as { type?: string; message?: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** Heartbeats and system alerts are the loop talking, not the user. */
function isLoopSignal(message: ChatMessage): boolean {
  if (message.role !== 'user') return false;
  const type = parseUserPayload(messageText(message))?.type;
  return type === 'heartbeat' || type === 'system_alert';
}

/** What the user actually said last (unwrapped from Letta's user_message JSON), or "". */
export function lastUserUtterance(request: ChatRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!;
    if (message.role !== 'user' || isLoopSignal(message)) continue;
    const text = messageText(message);
    const payload = parseUserPayload(text);
    return payload?.type === 'user_message' && typeof payload.message === 'string' ? payload.message : text;
  }
  return '';
}

/** The tool message the model has not answered yet, if the conversation ends with one (heartbeats aside). */
function pendingToolResult(request: ChatRequest): { name: string; content: string } | undefined {
  const messages = request.messages;
  let i = messages.length - 1;
  while (i >= 0 && isLoopSignal(messages[i]!)) i--;
  const last = messages[i];
  if (last?.role !== 'tool') return undefined;
  const call = messages
    .flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []) : []))
    .find((c) => c.id === last.tool_call_id);
  return { name: call?.function.name ?? 'tool', content: messageText(last) };
}

/** Labels of the `<memory_blocks>` in the system prompt, in order. */
function blockLabels(system: string): string[] {
  const start = system.indexOf('<memory_blocks>');
  const end = system.indexOf('</memory_blocks>');
  if (start < 0) return [];
  const section = system.slice(start, end > start ? end : undefined);
  const labels: string[] = [];
  for (const match of section.matchAll(/<([A-Za-z0-9_./-]+)>\s*<description>/g)) labels.push(match[1]!);
  return labels;
}

/** The value of a memory block as shown in the system prompt (line-number prefixes removed). */
function blockValue(system: string, label: string): string | undefined {
  const escaped = label.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`<${escaped}>[\\s\\S]*?<value>([\\s\\S]*?)</value>`).exec(system);
  return match?.[1]?.replace(/^\d+→ ?/gm, '').trim();
}

function toolSchema(request: ChatRequest, name: string): JsonSchema | undefined {
  return request.tools?.find((t) => t.function.name === name)?.function.parameters;
}

/** memgpt agents continue after a tool only when asked; set the flag when the schema has it. */
function withHeartbeat(request: ChatRequest, name: string, args: Record<string, unknown>, heartbeat: boolean): Record<string, unknown> {
  return toolSchema(request, name)?.properties?.request_heartbeat ? { ...args, request_heartbeat: heartbeat } : args;
}

/** Plausible arguments from a JSON schema: required strings → "demo", enums → the first option. */
function demoArguments(schema: JsonSchema | undefined): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const name of schema?.required ?? []) {
    const prop = schema?.properties?.[name] ?? {};
    const type = Array.isArray(prop.type) ? prop.type[0] : prop.type;
    if (prop.enum?.length) args[name] = prop.enum[0];
    else if (type === 'number' || type === 'integer') args[name] = 1;
    else if (type === 'boolean') args[name] = true;
    else if (type === 'array') args[name] = [];
    else if (type === 'object') args[name] = demoArguments(prop);
    else args[name] = 'demo';
  }
  return args;
}

// --- replying ----------------------------------------------------------------------------------

/** A plain reply: text, or a send_message call for agents that must speak through it. */
function say(request: ChatRequest, text: string, extra: Partial<Reply> = {}): Reply {
  const reply: Reply = { chunkDelayMs: STREAM_DELAY_MS, ...extra };
  if (toolNames(request).includes('send_message')) {
    return { ...reply, toolCalls: [{ name: 'send_message', arguments: withHeartbeat(request, 'send_message', { message: text }, false) }] };
  }
  return { ...reply, text };
}

function acknowledge(request: ChatRequest, result: { name: string; content: string }): Reply {
  const content = result.content.trim();
  const failed = /^(error|\[\w*error\])|denied/i.test(content) || /"status":\s*"(failed|error)"/i.test(content);
  if (failed) return say(request, `Hmm, \`${result.name}\` didn't work: ${result.content.slice(0, 160)}`);
  if (MEMORY_TOOLS.has(result.name)) return say(request, 'Done — I saved that to my memory.');
  return say(request, `Done — \`${result.name}\` returned: ${result.content.slice(0, 160) || '(nothing)'}`);
}

function remember(request: ChatRequest, utterance: string): Reply | undefined {
  const system = systemText(request);
  const labels = blockLabels(system);
  const label = system.includes('<human>') ? 'human' : system.includes('<persona>') ? 'persona' : (labels[0] ?? 'human');
  const name = /my name is (\w+)/i.exec(utterance)?.[1];
  const fact = name ? `The user's name is ${name}.` : utterance.replace(/^remember\s*(that\s*)?[:,]?\s*/i, '').trim();
  const reasoning = `The user told me something worth keeping. I'll save it to my "${label}" memory block.`;
  const tools = toolNames(request);
  if (tools.includes('memory_insert')) {
    return { reasoning, toolCalls: [{ name: 'memory_insert', arguments: withHeartbeat(request, 'memory_insert', { label, new_string: fact }, true) }] };
  }
  if (tools.includes('core_memory_append')) {
    return { reasoning, toolCalls: [{ name: 'core_memory_append', arguments: withHeartbeat(request, 'core_memory_append', { label, content: fact }, true) }] };
  }
  return undefined; // no memory tool attached: fall through to a normal reply
}

function callCustomTool(request: ChatRequest): Reply | undefined {
  const name = toolNames(request).find((n) => !BUILTIN_TOOLS.has(n));
  if (!name) return undefined;
  const args = withHeartbeat(request, name, demoArguments(toolSchema(request, name)), true);
  return { reasoning: `The user asked me to use ${name}; calling it with demo arguments.`, toolCalls: [{ name, arguments: args }] };
}

function greet(request: ChatRequest): Reply {
  const system = systemText(request);
  const human = blockValue(system, 'human');
  const known = human
    ? `Here's what my memory says about you: "${human}".`
    : "I don't know anything about you yet — tell me your name (\"my name is …\") and I'll remember it.";
  return say(
    request,
    `Hi! I'm the scripted demo model, so no API key is needed. ${known} ` +
      `Try "remember that I like tea", "tell me something long" (then cancel it), or "approve" to call a custom tool.`,
  );
}

export const demoBrain: Brain = (request) => {
  const toolResult = pendingToolResult(request);
  if (toolResult) return acknowledge(request, toolResult);

  const utterance = lastUserUtterance(request);
  if (/my name is \w+/i.test(utterance) || /^\s*remember\b/i.test(utterance)) {
    const reply = remember(request, utterance);
    if (reply) return reply;
  }
  if (/\b(slow|long)\b/i.test(utterance)) return say(request, LONG_ANSWER, { chunkDelayMs: SLOW_DELAY_MS, chunkSize: 6 });
  if (/\bapprove\b/i.test(utterance)) {
    const reply = callCustomTool(request);
    if (reply) return reply;
  }
  return greet(request);
};
