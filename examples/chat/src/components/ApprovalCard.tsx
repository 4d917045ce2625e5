import { useState } from 'react';
import type { SendMessageAsyncInput } from '../gql/graphql';

type Sending = Omit<SendMessageAsyncInput, 'agentId'>;

export interface PendingCall {
  toolCallId: string;
  name: string;
  arguments: string;
}

/**
 * The tool calls the agent waits on. Calls of tools the server runs are approved or denied (a
 * denial's reason reaches the model); calls of client-side tools are answered with their result.
 */
export function ApprovalCard(props: { calls: PendingCall[]; clientSideTools: Set<string>; onAnswer: (input: Sending) => Promise<void> }) {
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [results, setResults] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const clientSide = props.calls.filter((call) => props.clientSideTools.has(call.name));
  const serverSide = props.calls.filter((call) => !props.clientSideTools.has(call.name));

  const answer = async (input: Sending) => {
    setBusy(true);
    try {
      await props.onAnswer(input);
    } finally {
      setBusy(false);
    }
  };
  // The server takes the answers to all pending calls at once.
  const toolReturns = () => clientSide.map((call) => ({ toolCallId: call.toolCallId, toolReturn: results[call.toolCallId] ?? '' }));
  const decideAll = (approve: boolean) =>
    answer({
      approvals: serverSide.map((call) => ({ toolCallId: call.toolCallId, approve, reason: approve ? undefined : reasons[call.toolCallId] || undefined })),
      ...(clientSide.length ? { toolReturns: toolReturns() } : {}),
    });

  return (
    <section className="approval" aria-label="Approval">
      {props.calls.map((call) => (
        <div key={call.toolCallId} className="approval-call">
          <code>
            {call.name}({call.arguments})
          </code>
          {props.clientSideTools.has(call.name) ? (
            <input aria-label={`Result of ${call.name}`} placeholder="the tool's result" value={results[call.toolCallId] ?? ''} onChange={(event) => setResults({ ...results, [call.toolCallId]: event.target.value })} />
          ) : (
            <input aria-label={`Reason to deny ${call.name}`} placeholder="reason, if you deny" value={reasons[call.toolCallId] ?? ''} onChange={(event) => setReasons({ ...reasons, [call.toolCallId]: event.target.value })} />
          )}
        </div>
      ))}
      {serverSide.length > 0 && (
        <>
          <button type="button" disabled={busy} onClick={() => void decideAll(true)}>
            Approve
          </button>
          <button type="button" disabled={busy} onClick={() => void decideAll(false)}>
            Deny
          </button>
        </>
      )}
      {clientSide.length > 0 && serverSide.length === 0 && (
        <button type="button" disabled={busy} onClick={() => void answer({ toolReturns: toolReturns() })}>
          Send result
        </button>
      )}
    </section>
  );
}
