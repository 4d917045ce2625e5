/** The runEvents subscription most stream tests watch: every event's kind and seq, deltas and the stop. */
export const RUN_EVENTS = `subscription($runId: ID!, $after: Int) {
  runEvents(runId: $runId, after: $after) {
    __typename seq
    ... on MessageDeltaEvent { kind delta }
    ... on StopReasonEvent { stopReason }
  }
}`;

export type RunEvent = { __typename: string; seq: number; kind?: string; delta?: string; stopReason?: string };

export function withoutPings(events: RunEvent[]) {
  return events.filter((event) => event.__typename !== 'PingEvent');
}

/** The assistant's text, put together from its deltas. */
export function assistantText(events: RunEvent[]) {
  return events.filter((event) => event.kind === 'ASSISTANT').map((event) => event.delta).join('');
}
