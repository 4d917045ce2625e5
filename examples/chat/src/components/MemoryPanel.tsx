import { useEffect } from 'react';
import { useQuery, useSubscription } from 'urql';
import { AgentEventsSubscription, MemoryQuery } from '../documents';

/**
 * The agent's core-memory blocks, live: agentEvents says when memory changed (an edit by the
 * agent, by another client, or an attach/detach), and the blocks are read again.
 */
export function MemoryPanel(props: { agentId: string }) {
  const [{ data }, refetch] = useQuery({ query: MemoryQuery, variables: { agentId: props.agentId }, requestPolicy: 'network-only' });
  const [{ data: event }] = useSubscription({ query: AgentEventsSubscription, variables: { agentId: props.agentId } });

  const changed = event?.agentEvents;
  useEffect(() => {
    if (changed && changed.type === 'BLOCK_CHANGED') refetch({ requestPolicy: 'network-only' });
  }, [changed, refetch]);

  return (
    <section className="memory" aria-label="Memory">
      <h2>Core memory</h2>
      {data?.agent?.blocks.map((block) => (
        <article key={block.id} className="block" data-label={block.label}>
          <h3>
            {block.label} <small>{block.value.length}/{block.limit}</small>
          </h3>
          <pre>{block.value || '—'}</pre>
        </article>
      ))}
    </section>
  );
}
