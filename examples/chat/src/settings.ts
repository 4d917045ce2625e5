/**
 * Where the server is and which API key to send. The server URL comes from `?server=` (the tests
 * use it) or defaults to the demo server on :4000; the key is kept in localStorage once entered.
 */
const KEY_STORAGE = 'agentgraph.apiKey';

const query = new URLSearchParams(window.location.search);

export const serverUrl: string = query.get('server') ?? 'http://127.0.0.1:4000/graphql';

/** `?agent=<id>` opens that agent's conversation at once. */
export const initialAgentId: string | undefined = query.get('agent') ?? undefined;

export const websocketUrl: string = serverUrl.replace(/^http/, 'ws');

export function storedApiKey(): string | undefined {
  return window.localStorage.getItem(KEY_STORAGE) ?? undefined;
}

export function storeApiKey(key: string | undefined): void {
  if (key) window.localStorage.setItem(KEY_STORAGE, key);
  else window.localStorage.removeItem(KEY_STORAGE);
}
