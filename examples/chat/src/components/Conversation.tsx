import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import type { Client as WsClient } from 'graphql-ws';
import { CancelRunMutation, HistoryQuery, SendMessageMutation } from '../documents';
import type { SendMessageAsyncInput } from '../gql/graphql';

/** What the user sends; the conversation adds its agent. */
type Sending = Omit<SendMessageAsyncInput, 'agentId'>;
import { followRun, type RunEvent } from '../follow-run';
import { applyRunEvent, itemsOfMessage, type Item } from '../transcript';
import { ApprovalCard, type PendingCall } from './ApprovalCard';
import { Transcript } from './Transcript';

interface RunState {
  id: string;
  status: string;
  stopReason?: string | null;
  usage?: { promptTokens: number; completionTokens: number; totalTokens: number; stepCount: number };
  error?: string;
}

const isRequiresApproval = (stopReason: string | null | undefined) => stopReason?.toUpperCase() === 'REQUIRES_APPROVAL';
const isActive = (status: string) => ['CREATED', 'RUNNING'].includes(status.toUpperCase());

/** One agent's conversation: history, the run being streamed, the composer, cancel and approvals. */
export function Conversation(props: { agentId: string; ws: WsClient }) {
  const [{ data, error }] = useQuery({ query: HistoryQuery, variables: { agentId: props.agentId }, requestPolicy: 'network-only' });
  const [, send] = useMutation(SendMessageMutation);
  const [, cancel] = useMutation(CancelRunMutation);
  const [items, setItems] = useState<Item[]>([]);
  const [run, setRun] = useState<RunState>();
  const [pending, setPending] = useState<PendingCall[]>([]);
  const [sendError, setSendError] = useState<string>();
  const [draft, setDraft] = useState('');
  const stopFollowing = useRef<() => void>(undefined);

  const agent = data?.agent;
  const clientSideTools = new Set(agent?.tools.filter((tool) => !tool.builtIn && tool.toolType.toUpperCase() !== 'MCP').map((tool) => tool.name));

  useEffect(() => {
    if (!agent) return;
    setItems(agent.messages.nodes.flatMap(itemsOfMessage));
    const approval = agent.pendingApproval;
    if (approval?.__typename === 'ApprovalRequestMessage') setPending(approval.toolCalls.map((call) => ({ ...call })));
    // Only when the agent (re)loads: later changes come from the runs this page follows.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [agent?.id]);

  useEffect(() => () => stopFollowing.current?.(), []);

  const follow = (runId: string) => {
    stopFollowing.current?.();
    setRun({ id: runId, status: 'CREATED' });
    stopFollowing.current = followRun(
      props.ws,
      runId,
      (event: RunEvent) => {
        setItems((current) => applyRunEvent(current, event));
        if (event.__typename === 'MessageEvent' && event.message.__typename === 'ApprovalRequestMessage') {
          setPending(event.message.toolCalls.map((call) => ({ ...call })));
        }
        setRun((current) => (current && current.id === runId ? nextRunState(current, event) : current));
      },
      (endError) => {
        if (endError) setRun((current) => (current ? { ...current, error: describe(endError) } : current));
      },
    );
  };

  const submit = async (input: Sending) => {
    setSendError(undefined);
    const result = await send({ input: { ...input, agentId: props.agentId } });
    const runId = result.data?.sendMessageAsync.run.id;
    if (runId) follow(runId);
    else setSendError(result.error?.message ?? 'the message was not sent');
    return Boolean(runId);
  };

  const sendText = async () => {
    const text = draft.trim();
    if (!text) return;
    const otid = crypto.randomUUID();
    setDraft('');
    setItems((current) => [...current, { key: otid, kind: 'user', text }]);
    await submit({ messages: [{ content: text, otid }] });
  };

  const cancelRun = async () => {
    if (!run) return;
    // Settle the UI at once: stop following the run, and keep its unfinished text marked as
    // not stored (a cancelled step leaves no partial message in the history).
    stopFollowing.current?.();
    stopFollowing.current = undefined;
    setRun({ ...run, status: 'CANCELLING' });
    setItems((current) => current.map((item) => (item.live ? { ...item, live: false, cancelled: true } : item)));
    const result = await cancel({ runId: run.id });
    const status = result.data?.cancelRun.run.status;
    setRun((current) => (current && current.id === run.id ? { ...current, status: status ?? current.status } : current));
    if (result.error) setSendError(result.error.message);
  };

  const answered = async (input: Sending) => {
    if (await submit(input)) setPending([]);
  };

  const streaming = run !== undefined && isActive(run.status);
  return (
    <section className="conversation">
      {error && <p className="error">{error.message}</p>}
      <Transcript items={items} />
      {run && (
        <p className="run-status" data-run-id={run.id}>
          run <span data-testid="run-status">{run.status}</span>
          {run.stopReason && (
            <>
              {' · stop reason '}
              <span data-testid="stop-reason">{run.stopReason}</span>
            </>
          )}
          {run.usage && (
            <span data-testid="usage">
              {' · '}
              {run.usage.stepCount} steps, {run.usage.promptTokens} prompt + {run.usage.completionTokens} completion = {run.usage.totalTokens} tokens
            </span>
          )}
          {run.error && <span className="error"> · {run.error}</span>}
        </p>
      )}
      {pending.length > 0 && isRequiresApproval(run?.stopReason ?? 'REQUIRES_APPROVAL') && (
        <ApprovalCard calls={pending} clientSideTools={clientSideTools} onAnswer={answered} />
      )}
      {sendError && <p className="error">{sendError}</p>}
      <form
        className="composer"
        onSubmit={(event) => {
          event.preventDefault();
          void sendText();
        }}
      >
        <input aria-label="Message" placeholder="Say something… (try “slow”, “my name is Ada”, “approve”)" value={draft} onChange={(event) => setDraft(event.target.value)} />
        <button type="submit" disabled={streaming}>
          Send
        </button>
        <button type="button" onClick={() => void cancelRun()} disabled={!streaming}>
          Cancel
        </button>
      </form>
    </section>
  );
}

function nextRunState(run: RunState, event: RunEvent): RunState {
  switch (event.__typename) {
    case 'StopReasonEvent':
      return { ...run, status: event.status, stopReason: event.stopReason };
    case 'UsageEvent':
      return { ...run, usage: event.usage };
    case 'ErrorEvent':
      return { ...run, error: `${event.code}: ${event.errorMessage}` };
    case 'MessageDeltaEvent':
    case 'MessageEvent':
      return run.status === 'CREATED' ? { ...run, status: 'RUNNING' } : run;
    default:
      return run;
  }
}

function describe(error: unknown): string {
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message ?? String(e)).join('; ');
  return error instanceof Error ? error.message : String(error);
}
