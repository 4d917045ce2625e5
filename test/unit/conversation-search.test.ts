import { describe, expect, it } from 'vitest';
import { buildConversationSearchResult, formatConversationSearchResults, formatSearchTimestamp, formatTimeAgo, parseConversationSearchArgs } from '../../src/agent/tools/conversation-search.js';
import { ToolExecutionError } from '../../src/errors.js';

function errorOf(args: unknown, timezone: string | null = 'UTC'): string {
  try {
    parseConversationSearchArgs(args, timezone);
  } catch (error) {
    expect(error).toBeInstanceOf(ToolExecutionError);
    return (error as Error).message;
  }
  throw new Error('unexpectedly parsed');
}

const iso = (date: Date | undefined) => date?.toISOString();

describe('parseConversationSearchArgs', () => {
  it('defaults the limit to 5 and leaves the rest out', () => {
    expect(parseConversationSearchArgs({}, 'UTC')).toEqual({ limit: 5 });
    expect(parseConversationSearchArgs(undefined, null)).toEqual({ limit: 5 });
    expect(parseConversationSearchArgs({ query: '', roles: [], limit: null, start_date: '', end_date: null }, 'UTC')).toEqual({ limit: 5 });
  });

  it('passes query, roles and limit through', () => {
    expect(parseConversationSearchArgs({ query: 'birthday', roles: ['user', 'assistant'], limit: 10 }, 'UTC')).toEqual({
      query: 'birthday',
      roles: ['user', 'assistant'],
      limit: 10,
    });
  });

  it('reads a date in the agent timezone, the end date inclusive to the end of the day', () => {
    const args = parseConversationSearchArgs({ start_date: '2024-05-01', end_date: '2024-05-03' }, 'America/Los_Angeles');
    expect(iso(args.startDate)).toBe('2024-05-01T07:00:00.000Z');
    expect(iso(args.endDate)).toBe('2024-05-04T06:59:59.999Z');
  });

  it('uses UTC when the agent has no timezone', () => {
    const args = parseConversationSearchArgs({ start_date: '2024-05-01', end_date: '2024-05-01' }, null);
    expect(iso(args.startDate)).toBe('2024-05-01T00:00:00.000Z');
    expect(iso(args.endDate)).toBe('2024-05-01T23:59:59.999Z');
  });

  it('reads naive date-times in the agent timezone', () => {
    const args = parseConversationSearchArgs({ start_date: '2024-01-15T09:00', end_date: '2024-01-15T17:30' }, 'Europe/Berlin');
    expect(iso(args.startDate)).toBe('2024-01-15T08:00:00.000Z');
    expect(iso(args.endDate)).toBe('2024-01-15T16:30:00.000Z');
  });

  it('keeps explicit offsets', () => {
    const args = parseConversationSearchArgs({ start_date: '2024-01-15T09:00:00+05:30', end_date: '2024-01-15T10:00Z' }, 'America/New_York');
    expect(iso(args.startDate)).toBe('2024-01-15T03:30:00.000Z');
    expect(iso(args.endDate)).toBe('2024-01-15T10:00:00.000Z');
  });

  it('extends an end time of exactly midnight to the end of that day', () => {
    const args = parseConversationSearchArgs({ end_date: '2024-01-15T00:00:00' }, 'Asia/Tokyo');
    expect(iso(args.endDate)).toBe('2024-01-15T14:59:59.999Z');
    const aware = parseConversationSearchArgs({ end_date: '2024-01-15T00:00+02:00' }, 'UTC');
    expect(iso(aware.endDate)).toBe('2024-01-15T21:59:59.999Z');
  });

  it('follows Python for DST gaps and overlaps (fold=0)', () => {
    // 02:30 does not exist on 2024-03-10 in New York: the offset before the gap (-05:00) applies.
    expect(iso(parseConversationSearchArgs({ start_date: '2024-03-10T02:30' }, 'America/New_York').startDate)).toBe('2024-03-10T07:30:00.000Z');
    // 01:30 happens twice on 2024-11-03: the first (EDT, -04:00) is taken.
    expect(iso(parseConversationSearchArgs({ start_date: '2024-11-03T01:30' }, 'America/New_York').startDate)).toBe('2024-11-03T05:30:00.000Z');
  });

  it('accepts the formats Python accepts', () => {
    const utc = (text: string) => iso(parseConversationSearchArgs({ start_date: text }, 'UTC').startDate);
    expect(utc('20240115')).toBe('2024-01-15T00:00:00.000Z');
    expect(utc('2024-01-15 10:00:00.250')).toBe('2024-01-15T10:00:00.250Z');
    expect(utc('2024-01-15T1030')).toBe('2024-01-15T10:30:00.000Z');
    expect(utc('2024-1-5')).toBe('2024-01-05T00:00:00.000Z'); // strptime("%Y-%m-%d") fallback
  });

  it('rejects malformed dates with Letta’s text', () => {
    expect(errorOf({ start_date: 'yesterday' })).toBe(
      'Invalid start_date format: yesterday. Use ISO 8601 format (YYYY-MM-DD or YYYY-MM-DDTHH:MM)',
    );
    expect(errorOf({ end_date: '2024-02-30' })).toBe('Invalid end_date format: 2024-02-30. Use ISO 8601 format (YYYY-MM-DD or YYYY-MM-DDTHH:MM)');
    expect(errorOf({ end_date: '2024-01-15T24:00' })).toBe(
      'Invalid end_date format: 2024-01-15T24:00. Use ISO 8601 format (YYYY-MM-DD or YYYY-MM-DDTHH:MM)',
    );
  });

  it('rejects an unknown agent timezone for naive dates', () => {
    expect(errorOf({ start_date: '2024-01-15' }, 'Mars/Olympus')).toBe("'No time zone found with key Mars/Olympus'");
  });

  it('validates roles, limit and argument types', () => {
    expect(errorOf({ roles: ['user', 'robot'] })).toBe("'robot' is not a valid MessageRole");
    expect(errorOf({ roles: [5] })).toBe('5 is not a valid MessageRole');
    expect(errorOf({ roles: 'user' })).toBe("LettaCoreToolExecutor.conversation_search() argument 'roles' must be list, not str");
    expect(errorOf({ limit: '10' })).toBe("LettaCoreToolExecutor.conversation_search() argument 'limit' must be int, not str");
    expect(errorOf({ limit: -1 })).toBe('Invalid limit: -1. It must be a non-negative integer.');
    expect(errorOf({ query: 42 })).toBe("LettaCoreToolExecutor.conversation_search() argument 'query' must be str, not int");
    expect(errorOf({ text: 'x' })).toBe("LettaCoreToolExecutor.conversation_search() got an unexpected keyword argument 'text'");
  });
});

describe('formatting', () => {
  const now = new Date('2024-05-02T17:35:00Z');

  it('formats timestamps like Python isoformat in the agent zone', () => {
    expect(formatSearchTimestamp(new Date('2024-05-02T16:30:00Z'), 'America/Los_Angeles')).toBe('2024-05-02T09:30:00-07:00');
    expect(formatSearchTimestamp(new Date('2024-05-02T16:30:00.123Z'), 'UTC')).toBe('2024-05-02T16:30:00.123000+00:00');
    expect(formatSearchTimestamp(new Date('2024-01-14T18:30:00Z'), 'Asia/Kolkata')).toBe('2024-01-15T00:00:00+05:30');
    // No timezone: str(datetime), with a space.
    expect(formatSearchTimestamp(new Date('2024-05-02T16:30:00Z'), null)).toBe('2024-05-02 16:30:00+00:00');
  });

  it('formats time_ago in whole units', () => {
    expect(formatTimeAgo(new Date('2024-05-02T17:34:18Z'), now)).toBe('42s ago');
    expect(formatTimeAgo(new Date('2024-05-02T17:30:00Z'), now)).toBe('5m ago');
    expect(formatTimeAgo(new Date('2024-05-02T14:00:00Z'), now)).toBe('3h ago');
    expect(formatTimeAgo(new Date('2024-04-29T17:00:00Z'), now)).toBe('3d ago');
    expect(formatTimeAgo(new Date('2024-05-02T17:35:05Z'), now)).toBe('-5s ago');
  });

  it('returns "No results found." for no results', () => {
    expect(JSON.parse(formatConversationSearchResults([], 'UTC', now))).toEqual({ message: 'No results found.', results: [] });
  });

  it('builds Letta’s result dict, merging JSON message text', () => {
    const results = [
      { createdAt: new Date('2024-05-02T17:30:00Z'), role: 'user', text: '{"content": "my birthday is in June"}' },
      {
        createdAt: new Date('2024-05-02T14:00:00Z'),
        role: 'assistant',
        text: JSON.stringify({ thinking: 'User shared a date', content: 'Noted!' }),
        relevance: { rrfScore: 0.0163, vectorRank: 1, ftsRank: null, searchMode: 'hybrid' },
      },
      { createdAt: new Date('2024-05-01T17:00:00Z'), role: 'user', text: 'plain text' },
      { createdAt: new Date('2024-05-01T17:00:00Z'), role: 'assistant', text: '' },
      { createdAt: new Date('2024-05-01T17:00:00Z'), role: 'user', text: '[1, 2]', relevance: { searchMode: 'sql' } },
    ];
    expect(buildConversationSearchResult(results, 'America/Los_Angeles', now)).toEqual({
      message: 'Showing 5 results:',
      results: [
        { timestamp: '2024-05-02T10:30:00-07:00', time_ago: '5m ago', role: 'user', content: 'my birthday is in June' },
        {
          timestamp: '2024-05-02T07:00:00-07:00',
          time_ago: '3h ago',
          role: 'assistant',
          relevance: { rrf_score: 0.0163, vector_rank: 1, search_mode: 'hybrid' },
          thinking: 'User shared a date',
          content: 'Noted!',
        },
        { timestamp: '2024-05-01T10:00:00-07:00', time_ago: '1d ago', role: 'user', content: 'plain text' },
        { timestamp: '2024-05-01T10:00:00-07:00', time_ago: '1d ago', role: 'assistant' },
        { timestamp: '2024-05-01T10:00:00-07:00', time_ago: '1d ago', role: 'user', relevance: { search_mode: 'sql' }, content: [1, 2] },
      ],
    });
  });

  it('keeps Letta’s key order and JSON layout', () => {
    const text = formatConversationSearchResults(
      [{ createdAt: new Date('2024-05-02T16:30:00Z'), role: 'user', text: '{"content":"héllo"}' }],
      'UTC',
      now,
      { total: 3 },
    );
    expect(text).toBe(
      [
        '{',
        '  "message": "Showing 3 results:",',
        '  "results": [',
        '    {',
        '      "timestamp": "2024-05-02T16:30:00+00:00",',
        '      "time_ago": "1h ago",',
        '      "role": "user",',
        '      "content": "héllo"',
        '    }',
        '  ]',
        '}',
      ].join('\n'),
    );
  });

  it('leaves time_ago empty without a usable timezone', () => {
    const built = buildConversationSearchResult([{ createdAt: new Date('2024-05-02T16:30:00Z'), role: 'user', text: 'x' }], null, now);
    expect(built.results[0]).toEqual({ timestamp: '2024-05-02 16:30:00+00:00', time_ago: '', role: 'user', content: 'x' });
  });
});
