import type { LettaMessage, LettaMessageBase, LettaToolCall } from './letta-types.js';
import type { OpenAIToolCall, StoredMessage } from './stored.js';
import { deriveOtid } from './text.js';

/** Pieces shared by the conversions of every role: common fields, content parts, tool calls. */

type Common = Omit<LettaMessageBase, 'otid'>;

export function commonOf(message: StoredMessage): Common {
  return {
    id: message.id,
    date: message.createdAt,
    name: message.name,
    senderId: message.senderId,
    stepId: message.stepId,
    runId: message.runId,
    isErr: message.isErr,
    seqId: Number(message.sequenceId),
  };
}

export function toLettaToolCall(call: OpenAIToolCall): LettaToolCall {
  return { name: call.function.name, arguments: call.function.arguments, toolCallId: call.id };
}

export function toolCallsOf(message: StoredMessage): OpenAIToolCall[] | null {
  // Letta's ORM turns an empty tool_calls list into None.
  return message.toolCalls && message.toolCalls.length > 0 ? message.toolCalls : null;
}

/** Letta's `_convert_reasoning_messages`: content parts of an assistant (or approval) message. */
export function convertContentParts(message: StoredMessage, textIsAssistantMessage: boolean): LettaMessage[] {
  const out: LettaMessage[] = [];
  const common = commonOf(message);
  for (const part of message.content ?? []) {
    const otid = deriveOtid(message.id, out.length);
    const last = out.at(-1);
    switch (part.type) {
      case 'text':
        if (textIsAssistantMessage) {
          // consecutive text parts form one assistant message
          if (last?.messageType === 'assistant_message') last.content += part.text;
          else out.push({ ...common, messageType: 'assistant_message', otid, content: part.text });
        } else {
          out.push({
            ...common,
            messageType: 'reasoning_message',
            otid,
            source: 'non_reasoner_model',
            reasoning: part.text,
            signature: null,
          });
        }
        break;
      case 'reasoning':
        // native reasoning continues a preceding reasoning message (whatever its source)
        if (last?.messageType === 'reasoning_message') last.reasoning += part.reasoning;
        else {
          out.push({
            ...common,
            senderId: null,
            messageType: 'reasoning_message',
            otid,
            source: 'reasoner_model',
            reasoning: part.reasoning,
            signature: part.signature ?? null,
          });
        }
        break;
      case 'summarized_reasoning': {
        const texts = part.summary.map((s) => s.text).filter((t) => t !== '');
        if (texts.length > 0) {
          out.push({
            ...common,
            senderId: null,
            messageType: 'reasoning_message',
            otid,
            source: 'reasoner_model',
            reasoning: texts.join('\n\n'),
            signature: part.encrypted_content ?? null,
          });
        }
        break;
      }
      case 'redacted_reasoning':
        out.push({ ...common, messageType: 'hidden_reasoning_message', otid, state: 'redacted', hiddenReasoning: part.data });
        break;
      case 'omitted_reasoning':
        out.push({
          ...common,
          senderId: null,
          messageType: 'hidden_reasoning_message',
          otid,
          state: 'omitted',
          hiddenReasoning: null,
        });
        break;
      default:
        // tool_call parts (Gemini), images, tool_return parts: not shown
        break;
    }
  }
  return out;
}
