import type { LettaMessage } from '../agent/messages/letta-types.js';
import * as edits from '../services/messages/message-edits.js';
import { builder } from './builder.js';
import { agentId } from './ids.js';
import { MessageInterface } from './messages.js';

/** Letta's modify_message: editing a message through its client message type. */

const EditableMessageTypeEnum = builder.enumType('EditableMessageType', {
  description: 'The client message types whose content can be edited.',
  values: {
    USER_MESSAGE: { value: 'user_message', description: 'The text of a user message (its parts become one text).' },
    SYSTEM_MESSAGE: { value: 'system_message', description: "A system message; the in-context one is rebuilt when the edit drops the agent's compiled memory." },
    ASSISTANT_MESSAGE: { value: 'assistant_message', description: "An assistant message: its text, or the message argument of the send_message call it shows." },
    REASONING_MESSAGE: { value: 'reasoning_message', description: 'A reasoning message (native reasoning loses its provider signature).' },
  } as const,
});

const UpdateMessageInput = builder.inputType('UpdateMessageInput', {
  description: 'Which message to edit, as which client message type, and its new content.',
  fields: (t) => ({
    agentId: t.id({ description: 'The agent the message belongs to.', validate: agentId }),
    messageId: t.id({
      description: "Letta's message id (`messageId` of a message; its first view of that type), or a message's own `id` (that view).",
    }),
    messageType: t.field({ type: EditableMessageTypeEnum, description: 'The client message type edited.' }),
    content: t.string({ description: 'The new text.' }),
  }),
});

const UpdateMessagePayload = builder.objectRef<{ message: LettaMessage }>('UpdateMessagePayload').implement({
  description: 'The result of updateMessage.',
  fields: (t) => ({
    message: t.field({ type: MessageInterface, description: 'The edited message, as a client message of the type edited.', resolve: (payload) => payload.message }),
  }),
});

builder.mutationFields((t) => ({
  updateMessage: t.field({
    type: UpdateMessagePayload,
    description: "Edits the content of a user, system, assistant or reasoning message (Letta's modify_message); the message keeps its id and place.",
    args: { input: t.arg({ type: UpdateMessageInput, description: 'What to edit.' }) },
    resolve: async (_root, args, ctx) => ({ message: await edits.updateMessage(ctx.services, args.input) }),
  }),
}));
