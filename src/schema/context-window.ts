import type { ContextWindowOverview } from '../agent/context-window.js';
import * as compaction from '../services/messages/compaction.js';
import * as contextWindow from '../services/messages/context-window.js';
import * as search from '../services/messages/message-search.js';
import { Agent } from './agents.js';
import { builder } from './builder.js';
import { HEAVY_FIELD_COST, LIST_MULTIPLIER } from './cost.js';
import { CompactionModeEnum, MessageRoleEnum } from './enums.js';
import { agentId } from './ids.js';
import { MessageInterface } from './messages.js';
import { MessageInput } from './runs.js';

/** Context management: the context window, the raw request, compaction and message search. */

const ContextWindowOverviewRef = builder.objectRef<ContextWindowOverview>('ContextWindowOverview').implement({
  description:
    "Letta's ContextWindowOverview, counted on the request body the provider SDK would send next. contextWindowSizeCurrent is the sum of every numTokens* field and equals previewRawPayload's tokenCount.",
  fields: (t) => ({
    contextWindowSizeMax: t.exposeInt('contextWindowSizeMax', { description: 'The context window of the agent, in tokens.' }),
    contextWindowSizeCurrent: t.exposeInt('contextWindowSizeCurrent', { description: 'Tokens the next call carries.' }),
    numMessages: t.exposeInt('numMessages', { description: 'Messages in context, the system message included.' }),
    numArchivalMemory: t.exposeInt('numArchivalMemory', { description: 'Passages in archival memory.' }),
    numRecallMemory: t.exposeInt('numRecallMemory', { description: 'Every stored message of the agent, in context or not.' }),
    numTokensSystem: t.exposeInt('numTokensSystem', { description: 'Tokens of the base instructions.' }),
    systemPrompt: t.exposeString('systemPrompt', { description: 'The base instructions: the system text outside its tagged sections.' }),
    numTokensCoreMemory: t.exposeInt('numTokensCoreMemory', { description: 'Tokens of core memory.' }),
    coreMemory: t.exposeString('coreMemory', { description: 'Core memory as the model sees it.' }),
    numTokensExternalMemorySummary: t.exposeInt('numTokensExternalMemorySummary', { description: 'Tokens of the memory metadata.' }),
    externalMemorySummary: t.exposeString('externalMemorySummary', { description: 'The memory metadata (counts of recall and archival memory).' }),
    numTokensMemoryFilesystem: t.exposeInt('numTokensMemoryFilesystem', { description: 'Tokens of the open files section.' }),
    memoryFilesystem: t.exposeString('memoryFilesystem', { description: 'The open files as the model sees them.' }),
    numTokensToolUsageRules: t.exposeInt('numTokensToolUsageRules', { description: 'Tokens of the tool rules section.' }),
    toolUsageRules: t.exposeString('toolUsageRules', { description: 'The tool rules as the model sees them.' }),
    numTokensDirectories: t.exposeInt('numTokensDirectories', { description: 'Tokens of the directories section.' }),
    directories: t.exposeString('directories', { description: 'The attached folders as the model sees them.' }),
    numTokensSummaryMemory: t.exposeInt('numTokensSummaryMemory', { description: 'Tokens of the compaction summary.' }),
    summaryMemory: t.exposeString('summaryMemory', { description: 'The compaction summary in context, if any.', nullable: true }),
    numTokensFunctionsDefinitions: t.exposeInt('numTokensFunctionsDefinitions', { description: 'Tokens of the tool definitions.' }),
    functionsDefinitions: t.field({ description: 'The tool definitions sent to the model.', type: 'JSON', resolve: (overview) => overview.functionsDefinitions }),
    numTokensMessages: t.exposeInt('numTokensMessages', { description: 'Tokens of the messages.' }),
    messages: t.field({ type: 'JSON', description: 'The in-context messages as the provider receives them (after the system message and summary).', resolve: (overview) => overview.messages }),
    tokenizer: t.exposeString('tokenizer', { description: "How the tokens were counted: a BPE encoding (o200k_base, cl100k_base), or the provider's count endpoint (anthropic_count_tokens, gemini_count_tokens), to whose exact total the sections' estimates are scaled." }),
    tokenizerExact: t.exposeBoolean('tokenizerExact', { description: "False when the model family's own tokenizer is not available offline and o200k_base approximates it (its provider has no count endpoint, or it failed)." }),
  }),
});

builder.prismaObjectFields(Agent, (t) => ({
  contextWindow: t.field({
    type: ContextWindowOverviewRef,
    description: 'What the next model call would carry, section by section, with token counts (Letta GET /agents/{id}/context).',
    complexity: HEAVY_FIELD_COST.contextWindow,
    resolve: (agent, _args, ctx) => contextWindow.contextWindowOverview(ctx.services, agent.id),
  }),
  contextWindowLimit: t.int({
    select: { llmConfig: true, model: true },
    description: 'Tokens the model accepts: the agent’s setting, else its model’s window capped at the server’s DEFAULT_CONTEXT_WINDOW, else that default.',
    resolve: (agent, _args, ctx) => contextWindow.contextWindowOf(ctx.services.runtime, agent),
  }),
}));

const PreviewRawPayloadInput = builder.inputType('PreviewRawPayloadInput', {
  description: 'The messages to preview as if sent (nothing is stored): messages, or input for one user message, or neither.',
  fields: (t) => ({
    messages: t.field({ description: 'Messages as sendMessage takes them.', type: [MessageInput], required: false }),
    input: t.string({ description: 'Shorthand for one user message.', required: false }),
  }),
});

type Preview = Awaited<ReturnType<typeof contextWindow.previewRawPayload>>;
const RawPayloadRef = builder.objectRef<Preview>('RawPayload').implement({
  description: 'The request the provider SDK would send for the next step, captured without sending it.',
  fields: (t) => ({
    provider: t.exposeString('provider', { description: 'The provider it would go to.' }),
    model: t.exposeString('model', { description: 'The model.' }),
    url: t.exposeString('url', { description: 'Where the SDK would POST it.' }),
    payload: t.field({ type: 'JSON', description: 'The exact JSON body (messages, tools, options).', resolve: (preview) => preview.payload }),
    tokenCount: t.exposeInt('tokenCount', { description: 'Its size in tokens, counted as contextWindow counts it.' }),
    contextWindow: t.exposeInt('contextWindow', { description: 'The context window, in tokens.' }),
  }),
});

const SummarizeConversationInput = builder.inputType('SummarizeConversationInput', {
  description: "The agent whose context to compact, and how.",
  fields: (t) => ({
    agentId: t.id({ validate: agentId, description: 'The agent whose context to compact.' }),
    mode: t.field({ type: CompactionModeEnum, required: false, description: 'Default SLIDING_WINDOW.' }),
  }),
});

type Outcome = compaction.CompactionOutcome;
const SummarizeConversationPayload = builder.objectRef<Outcome>('SummarizeConversationPayload').implement({
  description: 'compacted is false (and nothing changed) when there was nothing to compact.',
  fields: (t) => ({
    compacted: t.exposeBoolean('compacted', { description: 'Whether anything was compacted.' }),
    summary: t.exposeString('summary', { description: 'The new summary.', nullable: true }),
    summaryMessageId: t.exposeID('summaryMessageId', { description: 'The stored summary message.', nullable: true }),
    mode: t.field({ type: CompactionModeEnum, nullable: true, description: 'What was summarised; null when nothing was.', resolve: (outcome) => (outcome.mode as 'sliding_window' | 'all' | undefined) ?? null }),
    numMessagesBefore: t.exposeInt('messagesCountBefore', { description: 'Messages in context before.' }),
    numMessagesAfter: t.exposeInt('messagesCountAfter', { description: 'Messages in context after.' }),
    contextTokensBefore: t.exposeInt('contextTokensBefore', { description: 'Tokens in context before.' }),
    contextTokensAfter: t.exposeInt('contextTokensAfter', { description: 'Tokens in context after.' }),
    contextWindow: t.exposeInt('contextWindow', { description: 'The context window, in tokens.' }),
    note: t.string({ description: 'Why nothing was compacted, when nothing was.',
      nullable: true,
      resolve: (outcome) => (outcome.compacted ? null : 'Nothing to compact: the context holds no message that can be summarised (the system message and a pending approval always stay).'),
    }),
  }),
});

builder.mutationFields((t) => ({
  summarizeConversation: t.field({
    type: SummarizeConversationPayload,
    description: 'Compacts the agent’s context now: the oldest messages are replaced by a summary (they stay stored and searchable).',
    args: { input: t.arg({ type: SummarizeConversationInput, description: 'Everything the mutation needs, ids included.' }) },
    resolve: (_root, { input: { agentId: agent, ...input } }, ctx) => compaction.summarizeConversation(ctx.services, agent, input),
  }),
}));

// ---- search ----

const MessageSearchModeEnum = builder.enumType('MessageSearchMode', {
  description: "How searchMessages ranks messages.",
  values: {
    HYBRID: { value: 'hybrid', description: 'Vector and full-text results fused by Reciprocal Rank Fusion (k = 60, equal weights).' },
    VECTOR: { value: 'vector', description: 'Cosine similarity of message embeddings.' },
    FTS: { value: 'fts', description: 'PostgreSQL full-text search (websearch syntax: "phrases", OR, -word).' },
    TIMESTAMP: { value: 'timestamp', description: 'Only as the mode that ran: without a query, the newest messages first (not accepted as input).' },
  } as const,
});

const SearchMessagesInput = builder.inputType('SearchMessagesInput', {
  description: "What to search for and where.",
  fields: (t) => ({
    query: t.string({ required: false, description: 'Without a query: the newest messages first.' }),
    mode: t.field({ type: MessageSearchModeEnum, required: false, description: 'Default HYBRID.' }),
    roles: t.field({ description: 'Only messages with these roles.', type: [MessageRoleEnum], required: false }),
    agentId: t.id({ required: false, description: 'Only this agent’s messages; default: the whole organization.' }),
    startDate: t.field({ description: 'Only messages stored at or after this time.', type: 'DateTime', required: false }),
    endDate: t.field({ type: 'DateTime', required: false, description: 'Inclusive; exactly midnight covers that whole day.' }),
    limit: t.int({ required: false, description: `Default ${search.MESSAGE_SEARCH_DEFAULT_LIMIT}, at most ${search.MESSAGE_SEARCH_MAX_LIMIT}.` }),
  }),
});

type SearchResponse = Awaited<ReturnType<typeof search.searchMessages>>;
const MessageSearchResultRef = builder.objectRef<SearchResponse['results'][number]>('MessageSearchResult').implement({
  description: "One stored message that matched, with its ranks.",
  fields: (t) => ({
    messageId: t.exposeID('messageId', { description: 'The stored message.' }),
    agentId: t.exposeID('agentId', { description: 'Its agent.' }),
    role: t.field({ type: MessageRoleEnum, description: 'The role of the stored message.', resolve: (result) => result.role as never }),
    createdAt: t.field({ description: 'When it was stored.', type: 'DateTime', resolve: (result) => result.createdAt }),
    embeddedText: t.exposeString('text', { description: 'The text the message was found by.' }),
    ftsRank: t.exposeInt('ftsRank', { nullable: true, description: 'Rank in the full-text list (from 1).' }),
    vectorRank: t.exposeInt('vectorRank', { nullable: true, description: 'Rank in the vector list (from 1).' }),
    rrfScore: t.exposeFloat('rrfScore', { description: 'HYBRID: Σ 0.5/(60 + rank); single modes: 1/rank.' }),
    messages: t.field({ type: [MessageInterface], description: 'The stored message as client messages.', resolve: (result) => result.messages }),
  }),
});

const MessageSearchResponseRef = builder.objectRef<SearchResponse>('MessageSearchResponse').implement({
  description: "The results of searchMessages, best first.",
  fields: (t) => ({
    mode: t.field({ type: MessageSearchModeEnum, description: 'The mode that ran: HYBRID, VECTOR, FTS, or TIMESTAMP (no query).', resolve: (response) => response.mode }),
    note: t.exposeString('note', { nullable: true, description: 'Why the mode that ran differs from the one asked.' }),
    results: t.field({ description: 'The matches, best first.', type: [MessageSearchResultRef], resolve: (response) => response.results }),
  }),
});

builder.queryFields((t) => ({
  previewRawPayload: t.field({
    type: RawPayloadRef,
    description: 'The exact request body the next model call would send with this input. Nothing is sent or stored, so it is a query.',
    args: { agentId: t.arg.id({ description: 'The agent.', validate: agentId }), input: t.arg({ description: 'The messages to preview; default: none.', type: PreviewRawPayloadInput, required: false }) },
    resolve: (_root, args, ctx) => contextWindow.previewRawPayload(ctx.services, args.agentId, args.input ?? {}),
  }),
  searchMessages: t.field({
    type: MessageSearchResponseRef,
    description: "Searches every stored message of the caller's organization, in context or not (Letta POST /agents/messages/search).",
    complexity: { field: HEAVY_FIELD_COST.search, multiplier: LIST_MULTIPLIER },
    args: { input: t.arg({ description: 'What to search for and where.', type: SearchMessagesInput }) },
    resolve: (_root, args, ctx) => search.searchMessages(ctx.services, args.input),
  }),
}));
