import { useState } from 'react';

/** The API key, for servers that require one (the demo does not). */
export function KeyForm(props: { apiKey: string | undefined; required: boolean; onSave: (key: string | undefined) => void }) {
  const [draft, setDraft] = useState('');
  return (
    <form
      className={props.required ? 'key-form required' : 'key-form'}
      onSubmit={(event) => {
        event.preventDefault();
        props.onSave(draft.trim() || undefined);
        setDraft('');
      }}
    >
      {props.required && <span role="alert">This server requires an API key.</span>}
      <input
        aria-label="API key"
        type="password"
        placeholder={props.apiKey ? 'key saved' : 'API key'}
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
      />
      <button type="submit">{draft || !props.apiKey ? 'Use key' : 'Forget key'}</button>
    </form>
  );
}
