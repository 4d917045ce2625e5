import type { Client as WsClient } from 'graphql-ws';
import { print } from 'graphql';
import { RunEventsSubscription } from './documents';
import type { ChatRunEventsSubscription } from './gql/graphql';

export type RunEvent = ChatRunEventsSubscription['runEvents'];

/**
 * Follows one run's events over graphql-ws. If the socket drops, the subscription is dropped with
 * it and, once the client has reconnected, subscribed again with `after: lastSeq`: the server
 * replays exactly what was missed, so no text is lost and none arrives twice. Events at or below
 * lastSeq are ignored all the same, in case a replay overlaps.
 */
export function followRun(
  ws: WsClient,
  runId: string,
  onEvent: (event: RunEvent) => void,
  onEnd: (error?: unknown) => void,
): () => void {
  const query = print(RunEventsSubscription);
  let lastSeq = 0;
  let finished = false;
  let dispose: (() => void) | undefined;

  const subscribe = () => {
    // The sink of a subscription dropped with its socket may still hear "complete": ignore it.
    let current = true;
    const unsubscribe = ws.subscribe<ChatRunEventsSubscription>(
      { query, variables: { runId, after: lastSeq } },
      {
        next: ({ data, errors }) => {
          if (!current) return;
          if (errors?.length) return finish(errors);
          const event = data?.runEvents;
          if (!event || event.seq <= lastSeq) return;
          lastSeq = event.seq;
          onEvent(event);
        },
        error: (error) => {
          if (current) finish(error);
        },
        complete: () => {
          if (current) finish();
        },
      },
    );
    dispose = () => {
      current = false;
      unsubscribe();
    };
  };

  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    stopListening();
    dispose?.();
    onEnd(error);
  };

  const offClosed = ws.on('closed', () => {
    dispose?.();
    dispose = undefined;
  });
  const offConnected = ws.on('connected', () => {
    if (!finished && !dispose) subscribe();
  });
  const stopListening = () => {
    offClosed();
    offConnected();
  };

  subscribe();
  return () => {
    finished = true;
    stopListening();
    dispose?.();
  };
}
