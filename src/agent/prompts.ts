/** Default system templates. `{CORE_MEMORY}` is replaced by the compiled memory (issue: memory). */
const BASE = `You are a helpful, stateful assistant with long-term memory.
Your core memory is shown below and stays in your context; edit it with your memory tools when you learn something worth keeping.
Older conversation is stored in recall memory and can be searched with conversation_search.`;

const MEMGPT = `${BASE}
You reply to the user only by calling the send_message tool; other text you produce is your private reasoning.`;

export const AGENT_TYPES = [
  'letta_v1_agent',
  'memgpt_v2_agent',
  'memgpt_agent',
  'react_agent',
  'workflow_agent',
  'sleeptime_agent',
] as const;

export type AgentType = (typeof AGENT_TYPES)[number];

export function defaultSystemPrompt(agentType: AgentType): string {
  const body = agentType === 'letta_v1_agent' ? BASE : MEMGPT;
  return `${body}\n\n{CORE_MEMORY}`;
}
