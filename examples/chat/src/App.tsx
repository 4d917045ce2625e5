import { useCallback, useEffect, useState } from 'react';
import { Provider } from 'urql';
import { createClients, type Clients } from './client';
import { initialAgentId, serverUrl, storeApiKey, storedApiKey } from './settings';
import { AgentPicker } from './components/AgentPicker';
import { Conversation } from './components/Conversation';
import { FilesPanel } from './components/FilesPanel';
import { KeyForm } from './components/KeyForm';
import { MemoryPanel } from './components/MemoryPanel';

export function App() {
  const [apiKey, setApiKey] = useState(storedApiKey);
  const [needsKey, setNeedsKey] = useState(false);
  const [agentId, setAgentId] = useState(initialAgentId);
  const [clients, setClients] = useState<Clients>();
  const requireKey = useCallback(() => setNeedsKey(true), []);
  // A new key means new connections: the socket authenticates once, when it opens.
  useEffect(() => {
    const created = createClients(apiKey, requireKey);
    setClients(created);
    return () => void created.ws.dispose();
  }, [apiKey, requireKey]);

  const saveKey = (key: string | undefined) => {
    storeApiKey(key);
    setApiKey(key);
    setNeedsKey(false);
  };

  // Until the clients for this key exist, render nothing that could query with the old ones.
  if (!clients || clients.apiKey !== apiKey) return null;
  return (
    <Provider value={clients.urql}>
      <header>
        <h1>agentgraph chat</h1>
        <span className="server">{serverUrl}</span>
        <KeyForm apiKey={apiKey} required={needsKey} onSave={saveKey} />
      </header>
      <AgentPicker selected={agentId} onSelect={setAgentId} onUnauthenticated={requireKey} />
      {agentId && (
        <main key={agentId}>
          <Conversation agentId={agentId} ws={clients.ws} />
          <aside>
            <MemoryPanel agentId={agentId} />
            <FilesPanel agentId={agentId} />
          </aside>
        </main>
      )}
    </Provider>
  );
}
