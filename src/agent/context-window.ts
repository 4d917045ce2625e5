import type { Tokenizer } from './tokenizer.js';

/**
 * Letta's ContextWindowOverview (letta-domain §7), measured on the request body the provider SDK
 * would send: the system text split into its sections, the tool definitions and the messages,
 * each counted with the model family's tokenizer. The parts partition what is counted, so their
 * sum is the size of that request (`requestTokens`).
 */
export interface ContextWindowOverview {
  contextWindowSizeMax: number;
  contextWindowSizeCurrent: number;
  numMessages: number;
  numArchivalMemory: number;
  numRecallMemory: number;
  numTokensExternalMemorySummary: number;
  externalMemorySummary: string;
  numTokensSystem: number;
  systemPrompt: string;
  numTokensCoreMemory: number;
  coreMemory: string;
  numTokensMemoryFilesystem: number;
  memoryFilesystem: string;
  numTokensToolUsageRules: number;
  toolUsageRules: string;
  numTokensDirectories: number;
  directories: string;
  numTokensSummaryMemory: number;
  summaryMemory: string | null;
  numTokensFunctionsDefinitions: number;
  functionsDefinitions: unknown[];
  numTokensMessages: number;
  messages: unknown[];
  tokenizer: string;
  tokenizerExact: boolean;
}

export const SUMMARY_MARKER = 'The following is a summary of the previous ';

/** Sections of a compiled system prompt; everything outside them is the base instructions. */
const SECTIONS = [
  ['coreMemory', 'memory_blocks'],
  ['toolUsageRules', 'tool_usage_rules'],
  ['directories', 'directories'],
  ['memoryFilesystem', 'memory_filesystem'],
  ['externalMemorySummary', 'memory_metadata'],
] as const;

type SectionName = (typeof SECTIONS)[number][0] | 'systemPrompt';

/** Splits the system text into its sections; the pieces concatenate back to the text. */
export function splitSystemPrompt(text: string): Record<SectionName, string> {
  const parts: Record<SectionName, string> = { systemPrompt: '', coreMemory: '', toolUsageRules: '', directories: '', memoryFilesystem: '', externalMemorySummary: '' };
  const spans: Array<{ start: number; end: number; name: SectionName }> = [];
  for (const [name, tag] of SECTIONS) {
    const start = text.indexOf(`<${tag}>`);
    if (start < 0) continue;
    const close = text.indexOf(`</${tag}>`, start);
    const end = close < 0 ? text.length : close + tag.length + 3;
    if (spans.some((span) => start < span.end && end > span.start)) continue;
    spans.push({ start, end, name });
  }
  spans.sort((a, b) => a.start - b.start);
  let at = 0;
  for (const span of spans) {
    parts.systemPrompt += text.slice(at, span.start);
    parts[span.name] += text.slice(span.start, span.end);
    at = span.end;
  }
  parts.systemPrompt += text.slice(at);
  return parts;
}

interface BodyParts {
  system: string;
  messages: unknown[];
  tools: unknown[];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join('');
}

/**
 * System text, other messages and tools of a provider's request body: Chat Completions
 * (`messages`), Anthropic (`system` + `messages`), the Responses API (`instructions` + `input`),
 * Gemini (`systemInstruction` + `contents`) and Bedrock Converse (`system` + `toolConfig`).
 */
export function bodyParts(body: Record<string, unknown>): BodyParts {
  const list = (value: unknown) => (Array.isArray(value) ? (value as Array<{ role?: string; content?: unknown }>) : []);
  const all = list(body.messages ?? body.input ?? body.contents);
  const systemMessages = all.filter((message) => message?.role === 'system' || message?.role === 'developer');
  const instruction = (body.systemInstruction as { parts?: unknown } | undefined)?.parts;
  const system = [textOf(body.system), textOf(body.instructions), textOf(instruction), ...systemMessages.map((message) => textOf(message.content))].filter(Boolean).join('\n');
  const tools = list(body.tools).length ? list(body.tools) : list((body.toolConfig as { tools?: unknown } | undefined)?.tools);
  return { system, messages: all.filter((message) => !systemMessages.includes(message)), tools };
}

export interface OverviewCounts {
  contextWindow: number;
  numArchivalMemory: number;
  numRecallMemory: number;
}

export function overviewOfRequest(body: Record<string, unknown>, tokenizer: Tokenizer, counts: OverviewCounts): ContextWindowOverview {
  const { system, messages, tools } = bodyParts(body);
  const sections = splitSystemPrompt(system);
  const first = messages[0] as { role?: string; content?: unknown } | undefined;
  const summary = first?.role === 'user' && textOf(first.content).includes(SUMMARY_MARKER) ? first : null;
  const rest = summary ? messages.slice(1) : messages;
  const count = tokenizer.count;
  const overview = {
    contextWindowSizeMax: counts.contextWindow,
    numMessages: messages.length + (system ? 1 : 0),
    numArchivalMemory: counts.numArchivalMemory,
    numRecallMemory: counts.numRecallMemory,
    numTokensExternalMemorySummary: count(sections.externalMemorySummary),
    externalMemorySummary: sections.externalMemorySummary,
    numTokensSystem: count(sections.systemPrompt),
    systemPrompt: sections.systemPrompt,
    numTokensCoreMemory: count(sections.coreMemory),
    coreMemory: sections.coreMemory,
    numTokensMemoryFilesystem: count(sections.memoryFilesystem),
    memoryFilesystem: sections.memoryFilesystem,
    numTokensToolUsageRules: count(sections.toolUsageRules),
    toolUsageRules: sections.toolUsageRules,
    numTokensDirectories: count(sections.directories),
    directories: sections.directories,
    numTokensSummaryMemory: summary ? count(JSON.stringify(summary)) : 0,
    summaryMemory: summary ? textOf(summary.content) : null,
    numTokensFunctionsDefinitions: tools.length ? count(JSON.stringify(tools)) : 0,
    functionsDefinitions: tools,
    numTokensMessages: rest.length ? count(JSON.stringify(rest)) : 0,
    messages: rest,
    tokenizer: tokenizer.encoding,
    tokenizerExact: tokenizer.exact,
  };
  return { ...overview, contextWindowSizeCurrent: requestTokensOf(overview) };
}

const PARTS = [
  'numTokensSystem',
  'numTokensCoreMemory',
  'numTokensExternalMemorySummary',
  'numTokensMemoryFilesystem',
  'numTokensToolUsageRules',
  'numTokensDirectories',
  'numTokensSummaryMemory',
  'numTokensFunctionsDefinitions',
  'numTokensMessages',
] as const;

/**
 * The overview with the provider's exact count of the whole request: the parts (counted with an
 * approximating tokenizer) are scaled to it, so that they still add up to the total.
 */
export function withProviderCount(overview: ContextWindowOverview, total: number, source: string): ContextWindowOverview {
  const scaled = { ...overview, tokenizer: source, tokenizerExact: true };
  const ratio = overview.contextWindowSizeCurrent > 0 ? total / overview.contextWindowSizeCurrent : 0;
  for (const part of PARTS) scaled[part] = Math.floor(overview[part] * ratio);
  // What flooring lost goes to the messages, so that the sum is exact.
  scaled.numTokensMessages += total - requestTokensOf(scaled);
  return { ...scaled, contextWindowSizeCurrent: total };
}

/** The size of the request: the sum of every counted part. */
export function requestTokensOf(overview: Omit<ContextWindowOverview, 'contextWindowSizeCurrent'>): number {
  return (
    overview.numTokensSystem +
    overview.numTokensCoreMemory +
    overview.numTokensExternalMemorySummary +
    overview.numTokensMemoryFilesystem +
    overview.numTokensToolUsageRules +
    overview.numTokensDirectories +
    overview.numTokensSummaryMemory +
    overview.numTokensFunctionsDefinitions +
    overview.numTokensMessages
  );
}
