import { useEffect, useRef } from 'react';
import type { Item } from '../transcript';

const LABELS: Record<Item['kind'], string> = {
  user: 'you',
  assistant: 'agent',
  reasoning: 'thinking',
  'tool-call': 'tool call',
  'tool-return': 'tool result',
  approval: 'needs approval',
};

/** The messages, each kind styled on its own; text still streaming is marked live. */
export function Transcript(props: { items: Item[] }) {
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [props.items]);
  return (
    <ol className="transcript">
      {props.items.map((item) => (
        <li key={item.key} className={`msg msg-${item.kind}${item.live ? ' live' : ''}${item.failed ? ' failed' : ''}${item.cancelled ? ' cancelled' : ''}`}>
          <span className="who">
            {LABELS[item.kind]}
            {item.toolName ? ` · ${item.toolName}` : ''}
          </span>
          <span className="text">{item.text}</span>
        </li>
      ))}
      <div ref={end} />
    </ol>
  );
}
