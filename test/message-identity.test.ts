import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../src/generated/gql/index.js';
import { closeAll, startWithScriptedModel, type TestServer } from './helpers/server.js';
import type { ModelServer } from './model-server/server.js';

/**
 * Every client message (view) of a stored message has its own id and cursor; `first`/`last`
 * count edges; and a real client (Apollo Client's relayStylePagination) pages through a history
 * one edge at a time without losing or repeating a view.
 */

const NewAgent = graphql(`
  mutation IdentityAgent($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }
`);
const Send = graphql(`
  mutation IdentitySend($input: SendMessageInput!) { sendMessage(input: $input) { stopReason } }
`);
const Page = graphql(`
  query IdentityPage($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $options: MessageListOptions) {
    agent(id: $id) {
      messages(first: $first, after: $after, last: $last, before: $before, options: $options) {
        edges { cursor node { __typename id messageId } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`);

const MESSAGE_TYPES = [
  'SystemMessage', 'UserMessage', 'ReasoningMessage', 'HiddenReasoningMessage', 'AssistantMessage', 'ToolCallMessage',
  'ToolReturnMessage', 'ApprovalRequestMessage', 'ApprovalResponseMessage', 'SummaryMessage',
];

describe('message identity and paging', () => {
  let model: ModelServer;
  let t: TestServer;
  let agentId: string;
  let all: Array<{ cursor: string; node: { __typename: string; id: string; messageId: string } }>;

  beforeAll(async () => {
    ({ model, t } = await startWithScriptedModel());
    agentId = (await t.ok(NewAgent, { input: { name: 'identity', model: 'test/scripted', memoryBlocks: [{ label: 'human', value: '' }] } })).createAgent.agent.id;
    // Two turns whose assistant messages each give two views (reasoning + tool call).
    for (const name of ['Ada', 'Grace']) {
      model.enqueue(
        { reasoning: `Remember ${name}.`, toolCalls: [{ id: `call_${name}`, name: 'memory_insert', arguments: { label: 'human', new_string: name, insert_line: -1 } }] },
        { reasoning: 'Done.', text: `Hello ${name}.` },
      );
      expect((await t.ok(Send, { input: { agentId, input: `I am ${name}` } })).sendMessage.stopReason).toBe('END_TURN');
    }
    all = (await t.ok(Page, { id: agentId, first: 500 })).agent!.messages.edges;
  });
  afterAll(async () => {
    await closeAll(t, model);
  });

  it('gives every view its own id and cursor, and keeps the stored message id in messageId', () => {
    const types = all.map((edge) => edge.node.__typename);
    expect(types).toEqual([
      'SystemMessage',
      'UserMessage', 'ReasoningMessage', 'ToolCallMessage', 'ToolReturnMessage', 'ReasoningMessage', 'AssistantMessage',
      'UserMessage', 'ReasoningMessage', 'ToolCallMessage', 'ToolReturnMessage', 'ReasoningMessage', 'AssistantMessage',
    ]);
    const ids = all.map((edge) => edge.node.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(all.map((edge) => edge.cursor)).toEqual(ids);
    // The reasoning and the tool call come from one stored message, and say so.
    expect(all[2]!.node.messageId).toBe(all[3]!.node.messageId);
    expect(all[2]!.node.id).not.toBe(all[3]!.node.id);
    for (const edge of all) expect(edge.node.id.startsWith(`${edge.node.messageId}:`)).toBe(true);
  });

  it('ids are stable: the same view has the same id in every page and under a type filter', async () => {
    const again = (await t.ok(Page, { id: agentId, last: 3 })).agent!.messages.edges.map((edge) => edge.node.id);
    expect(again).toEqual(all.slice(-3).map((edge) => edge.node.id));
    const calls = (await t.ok(Page, { id: agentId, first: 50, options: { includeReturnMessageTypes: ['TOOL_CALL_MESSAGE'] } })).agent!.messages.edges;
    expect(calls.map((edge) => edge.node.id)).toEqual(all.filter((edge) => edge.node.__typename === 'ToolCallMessage').map((edge) => edge.node.id));
  });

  it('first and last count edges, and cursors step one view at a time in both directions', async () => {
    expect((await t.ok(Page, { id: agentId, first: 1 })).agent!.messages.edges).toHaveLength(1);
    expect((await t.ok(Page, { id: agentId, last: 2 })).agent!.messages.edges.map((edge) => edge.node.id)).toEqual(all.slice(-2).map((edge) => edge.node.id));
    // A cursor inside a stored message (the reasoning) continues with the tool call of the same message.
    const afterReasoning = (await t.ok(Page, { id: agentId, first: 2, after: all[2]!.cursor })).agent!.messages;
    expect(afterReasoning.edges.map((edge) => edge.node.__typename)).toEqual(['ToolCallMessage', 'ToolReturnMessage']);
    const beforeCall = (await t.ok(Page, { id: agentId, last: 2, before: all[3]!.cursor })).agent!.messages;
    expect(beforeCall.edges.map((edge) => edge.node.__typename)).toEqual(['UserMessage', 'ReasoningMessage']);

    const forward: string[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 50; guard++) {
      const page: any = (await t.ok(Page, { id: agentId, first: 1, after })).agent!.messages;
      forward.push(...page.edges.map((edge: any) => edge.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(forward).toEqual(all.map((edge) => edge.node.id));

    const backward: string[] = [];
    let before: string | null = null;
    for (let guard = 0; guard < 50; guard++) {
      const page: any = (await t.ok(Page, { id: agentId, last: 2, before })).agent!.messages;
      backward.unshift(...page.edges.map((edge: any) => edge.node.id));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(backward).toEqual(all.map((edge) => edge.node.id));
  });

  it("a stored message id still works as a cursor (all of that message's views)", async () => {
    const reasoning = all[2]!.node;
    const page = (await t.ok(Page, { id: agentId, first: 1, after: reasoning.messageId })).agent!.messages;
    expect(page.edges.map((edge) => edge.node.__typename)).toEqual(['ToolReturnMessage']);
    const unknown = await t.request(Page, { id: agentId, first: 1, after: `${reasoning.messageId}:tool_call_message:7` });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it("Apollo Client's relayStylePagination pages through the history one edge at a time and keeps every view", async () => {
    const client = new ApolloClient({
      link: new HttpLink({ uri: t.url }),
      cache: new InMemoryCache({
        possibleTypes: { Message: MESSAGE_TYPES },
        typePolicies: { Agent: { fields: { messages: relayStylePagination(['options']) } } },
      }),
    });
    const query = gql`
      query ApolloMessages($id: ID!, $first: Int, $after: String) {
        agent(id: $id) {
          id
          messages(first: $first, after: $after) {
            edges { cursor node { __typename id messageId } }
            pageInfo { hasNextPage endCursor }
          }
        }
      }
    `;
    const observable = client.watchQuery<any>({ query, variables: { id: agentId, first: 1 } });
    const subscription = observable.subscribe(() => {});
    try {
      let result = await observable.refetch();
      for (let guard = 0; guard < 50 && result.data.agent.messages.pageInfo.hasNextPage; guard++) {
        await observable.fetchMore({ variables: { after: result.data.agent.messages.pageInfo.endCursor } });
        result = { data: client.readQuery<any>({ query, variables: { id: agentId, first: 1 } }) } as any;
      }
      const merged = result.data.agent.messages.edges.map((edge: any) => edge.node);
      expect(merged.map((node: any) => node.id)).toEqual(all.map((edge) => edge.node.id));
      expect(merged.filter((node: any) => node.__typename === 'ToolCallMessage')).toHaveLength(2);
    } finally {
      subscription.unsubscribe();
      client.stop();
    }
  });
});
