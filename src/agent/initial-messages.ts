import { formatDatetime } from './memory.js';
import type { NewMessage } from './run-types.js';
import { packageToolResult } from './tool-rules-solver.js';

/**
 * The messages Letta puts after the system message of a new memgpt-style agent: a boot
 * exchange that shows the model how send_message works, then a login event. letta_v1_agent
 * starts with the system message alone.
 */
export function initialMessages(agentType: string, now: Date, timezone: string): NewMessage[] {
  if (agentType === 'letta_v1_agent' || agentType === 'react_agent' || agentType === 'workflow_agent') return [];
  const callId = 'call_boot_0000000000000000';
  return [
    {
      role: 'assistant',
      content: [{ type: 'text', text: 'Bootup sequence complete. Persona activated. Testing messaging functionality.' }],
      toolCalls: [{ id: callId, type: 'function', function: { name: 'send_message', arguments: JSON.stringify({ message: 'More human than human is our motto.' }) } }],
    },
    {
      role: 'tool',
      name: 'send_message',
      toolCallId: callId,
      content: [{ type: 'text', text: packageToolResult('OK', 'None', now, timezone) }],
      toolReturns: [{ tool_call_id: callId, status: 'success', func_response: 'None' }],
    },
    {
      role: 'user',
      content: [{ type: 'text', text: JSON.stringify({ type: 'login', last_login: 'Never (first login)', time: formatDatetime(now, timezone) }, null, 2) }],
    },
  ];
}
