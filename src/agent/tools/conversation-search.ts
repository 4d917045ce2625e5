import { RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE } from './builtin.js';
import { pyRepr } from '../python-str.js';
import { bindArguments, type ParamSpec } from './tool-arguments.js';
import { ToolExecutionError } from '../../errors.js';

/**
 * conversation_search: argument parsing and result formatting as Letta does them
 * (LettaCoreToolExecutor.conversation_search and the Turbopuffer date filter, snapshot 56ba9c2).
 * Pure helpers: the caller runs the query.
 */

/** Letta's MessageRole values; the tool's schema offers assistant, user and tool. */
const MESSAGE_ROLES = ['assistant', 'user', 'tool', 'function', 'system', 'approval', 'summary'] as const;

export interface ConversationSearchParams {
  /** Absent when not given or empty. */
  query?: string;
  /** Absent when not given or empty. */
  roles?: string[];
  /** Default 5 (RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE). */
  limit: number;
  /** Inclusive lower bound. */
  startDate?: Date;
  /** Inclusive upper bound; a date, or a time of exactly midnight, covers that whole day (to 23:59:59.999). */
  endDate?: Date;
}

export interface ConversationSearchRelevance {
  rrfScore?: number | null;
  vectorRank?: number | null;
  ftsRank?: number | null;
  searchMode?: string | null;
}

export interface ConversationSearchResult {
  createdAt: Date;
  role: string;
  /**
   * The message's searchable text as Letta's `_extract_message_text` gives it: a JSON object
   * string (e.g. `{"content": "..."}` or `{"thinking": "...", "content": "..."}`), whose keys are
   * merged into the result, or plain text, which becomes `content`. Empty text adds no content.
   */
  text: string;
  /** Search metadata; Letta's SQL search reports `{searchMode: "sql"}`. Omitted when all null. */
  relevance?: ConversationSearchRelevance | null;
}

export interface FormatConversationSearchOptions {
  /**
   * The number in "Showing N results:". Letta counts the search hits *before* dropping tool
   * messages and conversation_search calls; defaults to the number of results given.
   */
  total?: number;
}

export const CONVERSATION_SEARCH_PARAMS: readonly ParamSpec[] = [
  { name: 'query', kind: 'str', optional: true },
  { name: 'roles', kind: 'list', optional: true },
  { name: 'limit', kind: 'int', optional: true },
  { name: 'start_date', kind: 'str', optional: true },
  { name: 'end_date', kind: 'str', optional: true },
];

// --- time zones --------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether `timeZone` is a zone Intl knows (Python's ZoneInfo accepts the IANA names). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

/** Wall-clock time of an instant in a zone. */
function wallTime(instant: number, timeZone: string): Wall {
  const parts = formatterFor(timeZone).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const era = parts.find((part) => part.type === 'era')?.value;
  const year = era === 'BC' || era === 'B' ? 1 - get('year') : get('year');
  return {
    year,
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
    ms: ((instant % 1000) + 1000) % 1000,
  };
}

function wallToUtcMs(wall: Wall): number {
  const date = new Date(Date.UTC(2000, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.ms));
  date.setUTCFullYear(wall.year);
  return date.getTime();
}

/** UTC offset of a zone at an instant, in milliseconds (whole seconds). */
function offsetAt(instant: number, timeZone: string): number {
  const floored = instant - (((instant % 1000) + 1000) % 1000);
  return wallToUtcMs({ ...wallTime(floored, timeZone), ms: 0 }) - floored;
}

/**
 * The instant of a wall-clock time in a zone, like Python's `replace(tzinfo=ZoneInfo(tz))`
 * (fold=0): an ambiguous time takes the earlier (pre-transition) offset, and a time in a gap
 * takes the offset in force before the gap.
 */
function zonedToInstant(wall: Wall, timeZone: string): number {
  const local = wallToUtcMs(wall);
  const day = 86_400_000;
  const before = offsetAt(local - day, timeZone);
  const after = offsetAt(local + day, timeZone);
  const fits = (offset: number) => offsetAt(local - offset, timeZone) === offset;
  if (fits(before)) return local - before;
  if (fits(after)) return local - after;
  return local - before;
}

// --- ISO date parsing (Python 3.11 datetime.fromisoformat, then strptime "%Y-%m-%d") -------------

interface ParsedDate extends Wall {
  /** Seconds east of UTC; null for a naive value. */
  offsetMs: number | null;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function validDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const max = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  return day <= max;
}

const ISO_DATE = /^(\d{4})(?:-(\d{2})-(\d{2})|(\d{2})(\d{2}))/;
const ISO_TIME = /^(\d{2})(?:(:?)(\d{2})(?:\2(\d{2})(?:[.,](\d+))?)?)?/;
const ISO_OFFSET = /^(?:([zZ])|([+-])(\d{2})(?:(:?)(\d{2})(?:\4(\d{2})(?:\.(\d{1,6}))?)?)?)$/;

/** A subset of Python 3.11's `datetime.fromisoformat` (calendar dates; not week or ordinal dates). */
function fromIsoFormat(text: string): ParsedDate | null {
  const date = ISO_DATE.exec(text);
  if (!date) return null;
  const year = Number(date[1]);
  const month = Number(date[2] ?? date[4]);
  const day = Number(date[3] ?? date[5]);
  if (!validDate(year, month, day)) return null;
  const result: ParsedDate = { year, month, day, hour: 0, minute: 0, second: 0, ms: 0, offsetMs: null };
  let rest = text.slice(date[0].length);
  if (rest === '') return result;

  // Any single non-digit character separates the date from the time.
  const separator = [...rest][0]!;
  if (/\d/.test(separator)) return null;
  rest = rest.slice(separator.length);
  const time = ISO_TIME.exec(rest);
  if (!time) return null;
  result.hour = Number(time[1]);
  result.minute = Number(time[3] ?? 0);
  result.second = Number(time[4] ?? 0);
  result.ms = time[5] ? Math.floor(Number(time[5].slice(0, 6).padEnd(6, '0')) / 1000) : 0;
  if (result.hour > 23 || result.minute > 59 || result.second > 59) return null;
  rest = rest.slice(time[0].length);
  if (rest === '') return result;

  const offset = ISO_OFFSET.exec(rest);
  if (!offset) return null;
  if (offset[1]) result.offsetMs = 0;
  else {
    const hours = Number(offset[3]);
    const minutes = Number(offset[5] ?? 0);
    const seconds = Number(offset[6] ?? 0);
    if (hours > 23 || minutes > 59 || seconds > 59) return null;
    const micros = offset[7] ? Number(offset[7].padEnd(6, '0')) : 0;
    const total = ((hours * 60 + minutes) * 60 + seconds) * 1000 + Math.floor(micros / 1000);
    result.offsetMs = offset[2] === '-' ? -total : total;
  }
  return result;
}

/** Python's `datetime.strptime(text, "%Y-%m-%d")` (month and day may have one digit). */
function strptimeDate(text: string): ParsedDate | null {
  const match = /^(\d{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])$/.exec(text);
  if (!match) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]!.trim());
  if (!validDate(year, month, day)) return null;
  return { year, month, day, hour: 0, minute: 0, second: 0, ms: 0, offsetMs: null };
}

function toInstant(parsed: ParsedDate, timeZone: string): number {
  if (parsed.offsetMs !== null) return wallToUtcMs(parsed) - parsed.offsetMs;
  return zonedToInstant(parsed, timeZone);
}

function agentZone(timezone: string | null | undefined): string {
  if (!timezone) return 'UTC';
  if (!isValidTimeZone(timezone)) throw new ToolExecutionError(pyRepr(`No time zone found with key ${timezone}`));
  return timezone;
}

/** A date bound of a search tool (`start_date`, `end_datetime`, ...); an end bound at midnight covers that whole day. */
export function parseBound(which: string, text: string, timezone: string | null | undefined, isEnd = which.startsWith('end')): Date {
  let parsed = fromIsoFormat(text);
  if (!parsed) {
    parsed = strptimeDate(text);
    if (!parsed) {
      throw new ToolExecutionError(`Invalid ${which} format: ${text}. Use ISO 8601 format (YYYY-MM-DD or YYYY-MM-DDTHH:MM)`);
    }
  }
  // The end bound covers the whole day when it falls at exactly midnight (Letta: the date-only
  // fallback sets 23:59:59.999999, and the search extends a midnight end_date by a day minus 1µs).
  if (isEnd && parsed.hour === 0 && parsed.minute === 0 && parsed.second === 0 && parsed.ms === 0) {
    parsed = { ...parsed, hour: 23, minute: 59, second: 59, ms: 999 };
  }
  const zone = parsed.offsetMs === null ? agentZone(timezone) : 'UTC';
  return new Date(toInstant(parsed, zone));
}

/**
 * Validates and normalises conversation_search arguments. Naive dates and times are read in the
 * agent's timezone (UTC when it has none). Throws ToolExecutionError with Letta's texts.
 */
export function parseConversationSearchArgs(args: unknown, timezone: string | null | undefined): ConversationSearchParams {
  const bound = bindArguments('conversation_search', args, CONVERSATION_SEARCH_PARAMS);
  const result: ConversationSearchParams = { limit: RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE };

  const query = bound.query as string | undefined;
  if (query) result.query = query;

  const roles = bound.roles as unknown[] | undefined;
  if (roles && roles.length > 0) {
    for (const role of roles) {
      if (typeof role !== 'string' || !(MESSAGE_ROLES as readonly string[]).includes(role)) {
        throw new ToolExecutionError(`${pyRepr(role)} is not a valid MessageRole`);
      }
    }
    result.roles = [...new Set(roles as string[])];
  }

  const limit = bound.limit as number | undefined;
  if (limit !== undefined) {
    // Letta hands a negative limit to the database; here it is refused.
    if (limit < 0) throw new ToolExecutionError(`Invalid limit: ${limit}. It must be a non-negative integer.`);
    result.limit = limit;
  }

  const start = bound.start_date as string | undefined;
  if (start) result.startDate = parseBound('start_date', start, timezone);
  const end = bound.end_date as string | undefined;
  if (end) result.endDate = parseBound('end_date', end, timezone);
  return result;
}

// --- formatting --------------------------------------------------------------------------------

function pad(value: number, width = 2): string {
  return String(Math.abs(value)).padStart(width, '0');
}

function pyYear(year: number): string {
  return pad(year, 4);
}

/** Python's `datetime.isoformat()` of an aware time: microseconds only when non-zero. */
function isoFormat(wall: Wall, offsetMs: number, separator: string): string {
  let out = `${pyYear(wall.year)}-${pad(wall.month)}-${pad(wall.day)}${separator}${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)}`;
  if (wall.ms !== 0) out += `.${pad(wall.ms, 3)}000`;
  const sign = offsetMs < 0 ? '-' : '+';
  const total = Math.abs(offsetMs) / 1000;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = Math.floor(total % 60);
  out += `${sign}${pad(hours)}:${pad(minutes)}`;
  if (seconds) out += `:${pad(seconds)}`;
  return out;
}

/** Letta's `timestamp`: ISO time in the agent's zone, e.g. "2024-05-02T09:30:00-07:00". */
export function formatSearchTimestamp(createdAt: Date, timezone: string | null | undefined): string {
  const instant = createdAt.getTime();
  if (!timezone || !isValidTimeZone(timezone)) {
    // Letta: str(timestamp) of the UTC time when the agent has no (usable) timezone.
    return isoFormat(wallTime(instant, 'UTC'), 0, ' ');
  }
  return isoFormat(wallTime(instant, timezone), offsetAt(instant, timezone), 'T');
}

/** Letta's `time_ago`: "42s ago", "5m ago", "3h ago", "2d ago" (whole units, truncated). */
export function formatTimeAgo(createdAt: Date, now: Date): string {
  const totalSeconds = Math.trunc((now.getTime() - createdAt.getTime()) / 1000);
  if (totalSeconds < 60) return `${totalSeconds}s ago`;
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)}m ago`;
  if (totalSeconds < 86400) return `${Math.floor(totalSeconds / 3600)}h ago`;
  return `${Math.floor(totalSeconds / 86400)}d ago`;
}

function stripNul(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\x00') ? value.replaceAll('\x00', '') : value;
  if (Array.isArray(value)) return value.map(stripNul);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, item]) => [stripNul(key) as string, stripNul(item)]));
  }
  return value;
}

/** The dict Letta's conversation_search returns (before the tool-return envelope). */
export function buildConversationSearchResult(
  results: readonly ConversationSearchResult[],
  timezone: string | null | undefined,
  now: Date,
  options: FormatConversationSearchOptions = {},
): { message: string; results: Array<Record<string, unknown>> } {
  if (results.length === 0) return { message: 'No results found.', results: [] };
  const usableZone = Boolean(timezone) && isValidTimeZone(timezone!);
  const formatted = results.map((result) => {
    const item: Record<string, unknown> = {
      timestamp: formatSearchTimestamp(result.createdAt, timezone),
      time_ago: usableZone ? formatTimeAgo(result.createdAt, now) : '',
      role: result.role,
    };
    const relevance = result.relevance;
    if (relevance) {
      const info: Record<string, unknown> = {};
      if (relevance.rrfScore !== undefined && relevance.rrfScore !== null) info.rrf_score = relevance.rrfScore;
      if (relevance.vectorRank !== undefined && relevance.vectorRank !== null) info.vector_rank = relevance.vectorRank;
      if (relevance.ftsRank !== undefined && relevance.ftsRank !== null) info.fts_rank = relevance.ftsRank;
      if (relevance.searchMode !== undefined && relevance.searchMode !== null) info.search_mode = relevance.searchMode;
      if (Object.keys(info).length > 0) item.relevance = info;
    }
    if (result.text) {
      let parsed: unknown;
      let isJson = true;
      try {
        parsed = JSON.parse(result.text);
      } catch {
        isJson = false;
      }
      if (!isJson) item.content = result.text;
      else if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(item, parsed);
      else item.content = parsed;
    }
    return stripNul(item) as Record<string, unknown>;
  });
  return { message: `Showing ${options.total ?? results.length} results:`, results: formatted };
}

/**
 * The conversation_search result as JSON (2-space indent, non-ASCII kept, as Letta's json_dumps).
 * Letta nests the dict itself, not this string, in the tool-return envelope
 * (`{"status": "OK", "message": {...}, "time": ...}`); use buildConversationSearchResult for that.
 */
export function formatConversationSearchResults(
  results: readonly ConversationSearchResult[],
  timezone: string | null | undefined,
  now: Date,
  options: FormatConversationSearchOptions = {},
): string {
  return JSON.stringify(buildConversationSearchResult(results, timezone, now, options), null, 2);
}
