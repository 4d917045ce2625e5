import { useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { AgentsQuery, CreateAgentMutation } from '../documents';
import { errorCode } from '../errors';

/** Pick an agent, or create one with the usual human/persona memory. */
export function AgentPicker(props: { selected?: string; onSelect: (id: string) => void; onUnauthenticated: () => void }) {
  const [{ data, error }, refetch] = useQuery({ query: AgentsQuery });
  const [creating, createAgent] = useMutation(CreateAgentMutation);
  const [name, setName] = useState('');
  const { onUnauthenticated } = props;

  useEffect(() => {
    if (errorCode(error) === 'UNAUTHENTICATED') onUnauthenticated();
  }, [error, onUnauthenticated]);

  const create = async () => {
    const result = await createAgent({
      input: {
        name: name.trim() || 'chat agent',
        memoryBlocks: [
          { label: 'human', value: '' },
          { label: 'persona', value: 'I am a helpful assistant.' },
        ],
      },
    });
    const agent = result.data?.createAgent.agent;
    if (agent) {
      setName('');
      refetch({ requestPolicy: 'network-only' });
      props.onSelect(agent.id);
    }
  };

  return (
    <nav className="agent-picker">
      <select aria-label="Agent" value={props.selected ?? ''} onChange={(event) => props.onSelect(event.target.value)}>
        <option value="" disabled>
          Pick an agent…
        </option>
        {data?.agents.edges.map(({ node: agent }) => (
          <option key={agent.id} value={agent.id}>
            {agent.name}
          </option>
        ))}
      </select>
      <input aria-label="New agent name" placeholder="new agent name" value={name} onChange={(event) => setName(event.target.value)} />
      <button type="button" onClick={() => void create()} disabled={creating.fetching}>
        Create agent
      </button>
      {(error ?? creating.error) && <span className="error">{(error ?? creating.error)!.message}</span>}
    </nav>
  );
}
