/** Options of the stored → LettaMessage conversion (Letta's `to_letta_messages` arguments). */

/** letta/constants.py DEFAULT_MESSAGE_TOOL */
export const DEFAULT_MESSAGE_TOOL = 'send_message';
/** letta/constants.py DEFAULT_MESSAGE_TOOL_KWARG */
export const DEFAULT_MESSAGE_TOOL_KWARG = 'message';

export interface ToLettaMessagesOptions {
  agentType: string;
  /** Turn calls of `assistantMessageToolName` into assistant_messages. Default true. */
  useAssistantMessage?: boolean;
  assistantMessageToolName?: string;
  assistantMessageToolKwarg?: string;
  /**
   * Text content parts become assistant_messages (else reasoning_messages). Default:
   * `agentType === 'letta_v1_agent'` (Letta's listing rule; its all-agents listing and
   * conversation listing always pass true).
   */
  textIsAssistantMessage?: boolean;
  /** Summary rows become user_messages (default true) instead of summary_messages. */
  convertSummaryToUser?: boolean;
  /**
   * Reverse the LettaMessages produced from each Message (Letta's `reverse`, used when listing
   * newest first). Default false.
   */
  reverse?: boolean;
}

export interface ToLettaMessageListOptions extends ToLettaMessagesOptions {
  /** null/undefined: every type. An empty list keeps nothing. */
  includeReturnMessageTypes?: readonly string[] | null;
}

export interface ResolvedOptions {
  useAssistantMessage: boolean;
  toolName: string;
  toolKwarg: string;
  textIsAssistantMessage: boolean;
  convertSummaryToUser: boolean;
  reverse: boolean;
}

export function resolveOptions(options: ToLettaMessagesOptions): ResolvedOptions {
  return {
    useAssistantMessage: options.useAssistantMessage ?? true,
    toolName: options.assistantMessageToolName ?? DEFAULT_MESSAGE_TOOL,
    toolKwarg: options.assistantMessageToolKwarg ?? DEFAULT_MESSAGE_TOOL_KWARG,
    textIsAssistantMessage: options.textIsAssistantMessage ?? options.agentType === 'letta_v1_agent',
    convertSummaryToUser: options.convertSummaryToUser ?? true,
    reverse: options.reverse ?? false,
  };
}
