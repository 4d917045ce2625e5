import type { AgentType } from './prompts.js';
import { renderToolRules, type ToolRule } from './tool-rules.js';

/**
 * Compiling core memory into the system prompt, as Letta does (letta/schemas/memory.py
 * `Memory.compile`, letta/prompts/prompt_generator.py). Pure functions: no database.
 */

export interface MemoryBlock {
  label: string;
  value: string;
  limit: number;
  description: string | null;
  readOnly: boolean;
  metadata?: Record<string, unknown> | null;
}

/** A folder attached to the agent (Letta Source). */
export interface MemoryFolder {
  /** Matched against MemoryFile.folderId when both are set; otherwise folders match files by name. */
  id?: string;
  name: string;
  description?: string | null;
  instructions?: string | null;
}

/** A file of an attached folder, as the agent sees it (Letta FileAgent / FileBlock). */
export interface MemoryFile {
  folderId?: string;
  folderName: string;
  /** Used when no `folders` list is given and the folders are derived from the files. */
  folderDescription?: string | null;
  folderInstructions?: string | null;
  /** The file's name as shown to the agent, e.g. "docs/guide.md". */
  fileName: string;
  isOpen: boolean;
  description?: string | null;
  /** The line-numbered view of the open range (shown only when open). */
  visibleContent?: string | null;
  /** The per-file view window (chars_limit); the visible content is cut to it. */
  limit?: number;
}

/** Letta's CORE_MEMORY_LINE_NUMBER_WARNING. */
export const CORE_MEMORY_LINE_NUMBER_WARNING =
  "# NOTE: Line numbers shown below (with arrows like '1→') are to help during editing. Do NOT include line number prefixes in your memory edit tool calls.";

/** Letta's MEMORY_TOOLS_LINE_NUMBER_PREFIX_REGEX: a view-only "12→ " prefix at the start of a line. */
export const LINE_NUMBER_PREFIX_REGEX = /^[ \t]*\d+→[ \t]*/m;

/** Letta's FILE_IS_TRUNCATED_WARNING. */
export const FILE_IS_TRUNCATED_WARNING = '# NOTE: This block is truncated, use functions to view the full content.';

/** Per-file window when the agent has no context window to derive one from (Letta's default). */
export const DEFAULT_PER_FILE_VIEW_WINDOW_CHAR_LIMIT = 50_000;

export const DEFAULT_PERSONA_BLOCK_DESCRIPTION =
  'The persona block: Stores details about your current persona, guiding how you behave and respond. This helps you to maintain consistency and personality in your interactions.';
export const DEFAULT_HUMAN_BLOCK_DESCRIPTION =
  'The human block: Stores key details about the person you are conversing with, allowing for more personalized and friend-like conversation.';

/** Letta's built-in description for `human` and `persona` blocks created without one. */
export function defaultBlockDescription(label: string): string | null {
  if (label === 'human') return DEFAULT_HUMAN_BLOCK_DESCRIPTION;
  if (label === 'persona') return DEFAULT_PERSONA_BLOCK_DESCRIPTION;
  return null;
}

const LINE_NUMBERED_AGENT_TYPES: readonly AgentType[] = ['sleeptime_agent', 'memgpt_v2_agent', 'letta_v1_agent'];

/** Letta numbers memory lines only for these agent types on an `anthropic` endpoint. */
export function usesLineNumbers(agentType: AgentType, modelEndpointType: string | null | undefined): boolean {
  return modelEndpointType === 'anthropic' && LINE_NUMBERED_AGENT_TYPES.includes(agentType);
}

/** String length counted like Python's len(): in code points, not UTF-16 units. */
export function codePointLength(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A low surrogate that follows a high surrogate belongs to the same code point.
    if (unit >= 0xdc00 && unit <= 0xdfff && i > 0) {
      const previous = text.charCodeAt(i - 1);
      if (previous >= 0xd800 && previous <= 0xdbff) continue;
    }
    count++;
  }
  return count;
}

/** Python-style slice text[0:n] in code points. */
function codePointPrefix(text: string, n: number): string {
  if (n <= 0) return '';
  let taken = 0;
  let end = 0;
  for (const char of text) {
    if (taken === n) break;
    end += char.length;
    taken++;
  }
  return text.slice(0, end);
}

/**
 * What an attached file shows (Letta `truncate_file_visible_content`): nothing when closed,
 * otherwise the visible content cut to the window with a truncation note.
 */
export function truncateFileVisibleContent(visibleContent: string | null | undefined, isOpen: boolean, limit: number): string {
  const content = visibleContent && isOpen ? visibleContent : '';
  if (codePointLength(content) <= limit) return content;
  const warning = `...[TRUNCATED]\n${FILE_IS_TRUNCATED_WARNING}`;
  return codePointPrefix(content, limit - codePointLength(warning)) + warning;
}

const MEMORY_BLOCKS_HEADER = '<memory_blocks>\nThe following memory blocks are currently engaged in your core memory unit:\n\n';
const MEMORY_BLOCKS_FOOTER = '\n</memory_blocks>';

function blockMetadata(block: MemoryBlock, value: string): string {
  let out = '<metadata>';
  if (block.readOnly) out += '\n- read_only=true';
  out += `\n- chars_current=${codePointLength(value)}`;
  out += `\n- chars_limit=${block.limit ?? 0}\n`;
  return out + '</metadata>\n';
}

function renderBlocks(blocks: readonly MemoryBlock[], lineNumbers: boolean): string {
  // Letta writes nothing for an agent without blocks, except in the line-numbered variant.
  if (blocks.length === 0 && !lineNumbers) return '';
  const parts = blocks.map((block) => {
    const label = block.label || 'block';
    const value = block.value ?? '';
    let out = `<${label}>\n<description>\n${block.description ?? ''}\n</description>\n`;
    out += blockMetadata(block, value);
    if (lineNumbers) {
      out += `<warning>\n${CORE_MEMORY_LINE_NUMBER_WARNING}\n</warning>\n<value>\n`;
      if (value) out += value.split('\n').map((line, index) => `${index + 1}→ ${line}\n`).join('');
    } else {
      out += `<value>\n${value}\n`;
    }
    return `${out}</value>\n</${label}>\n`;
  });
  return MEMORY_BLOCKS_HEADER + parts.join('\n') + MEMORY_BLOCKS_FOOTER;
}

interface ResolvedFile {
  file: MemoryFile;
  value: string;
  limit: number;
}

function foldersOf(folders: readonly MemoryFolder[] | undefined, files: readonly MemoryFile[]): MemoryFolder[] {
  if (folders) return [...folders];
  const seen = new Map<string, MemoryFolder>();
  for (const file of files) {
    const key = file.folderId ?? file.folderName;
    if (!seen.has(key)) {
      seen.set(key, {
        ...(file.folderId !== undefined ? { id: file.folderId } : {}),
        name: file.folderName,
        description: file.folderDescription ?? null,
        instructions: file.folderInstructions ?? null,
      });
    }
  }
  return [...seen.values()];
}

function belongsTo(file: MemoryFile, folder: MemoryFolder): boolean {
  if (folder.id !== undefined && file.folderId !== undefined) return folder.id === file.folderId;
  return folder.name === file.folderName;
}

function renderDirectories(
  folders: readonly MemoryFolder[],
  files: readonly ResolvedFile[],
  maxFilesOpen: number | null | undefined,
  react: boolean,
): string {
  let out = '<directories>\n';
  if (maxFilesOpen !== undefined && maxFilesOpen !== null) {
    const open = files.filter((entry) => entry.value).length;
    out += `<file_limits>\n- current_files_open=${open}\n- max_files_open=${maxFilesOpen}\n</file_limits>\n`;
  }
  for (const folder of folders) {
    out += `<directory name="${folder.name}">\n`;
    if (folder.description) out += `<description>${folder.description}</description>\n`;
    if (folder.instructions) out += `<instructions>${folder.instructions}</instructions>\n`;
    for (const { file, value, limit } of files) {
      if (!belongsTo(file, folder)) continue;
      // A file counts as open when it shows content; file blocks are always read-only.
      const status = value ? 'open' : 'closed';
      const label = file.fileName || 'file';
      const description = file.description ?? '';
      const metadata = `<metadata>\n- read_only=true\n- chars_current=${codePointLength(value)}\n- chars_limit=${limit}\n</metadata>\n`;
      if (react) {
        out += `<file status="${status}">\n<${label}>\n<description>\n${description}\n</description>\n${metadata}`;
        out += `<value>\n${value}\n</value>\n</${label}>\n</file>\n`;
      } else {
        out += `<file status="${status}" name="${label}">\n`;
        if (description) out += `<description>\n${description}\n</description>\n`;
        out += metadata;
        if (value) out += `<value>\n${value}\n</value>\n`;
        out += '</file>\n';
      }
    }
    out += '</directory>\n';
  }
  return `${out}</directories>`;
}

export interface CompileMemoryInput {
  agentType: AgentType;
  blocks: MemoryBlock[];
  /**
   * Line-numbered block values (Letta: anthropic endpoint and letta_v1/memgpt_v2/sleeptime agents;
   * see {@link usesLineNumbers}). Ignored for other agent types.
   */
  lineNumbers?: boolean;
  toolRules?: ToolRule[];
  /** Attached folders; when omitted they are derived from `files`. `<directories>` appears only when there is at least one. */
  folders?: MemoryFolder[];
  files?: MemoryFile[];
  /** Shown as `<file_limits>` when set. */
  maxFilesOpen?: number | null;
}

/**
 * The memory string that replaces `{CORE_MEMORY}` (before the metadata block): memory blocks
 * (not for react/workflow agents), then `<tool_usage_rules>`, then `<directories>`, each
 * section after a blank line.
 */
export function compileMemory(input: CompileMemoryInput): string {
  const react = input.agentType === 'react_agent' || input.agentType === 'workflow_agent';
  const lineNumbers = Boolean(input.lineNumbers) && LINE_NUMBERED_AGENT_TYPES.includes(input.agentType);
  let out = react ? '' : renderBlocks(input.blocks, lineNumbers);

  const rules = renderToolRules(input.toolRules ?? []);
  if (rules) out += `\n\n${rules}`;

  const files = input.files ?? [];
  const folders = foldersOf(input.folders, files);
  if (folders.length > 0) {
    const resolved = files.map((file) => {
      const limit = file.limit ?? DEFAULT_PER_FILE_VIEW_WINDOW_CHAR_LIMIT;
      return { file, limit, value: truncateFileVisibleContent(file.visibleContent, file.isOpen, limit) };
    });
    out += `\n\n${renderDirectories(folders, resolved, input.maxFilesOpen, react)}`;
  }
  return out;
}

// --- metadata block --------------------------------------------------------------------------

/**
 * Letter abbreviations (strftime %Z) of the zones that have one, per UTC offset, from the IANA
 * tz database (current rules). Each entry: "ABBR<offset minutes>,..." then the zones using them.
 * Zones not listed use tzdata's numeric abbreviation ("-03", "+0530"), as %Z prints it.
 */
const ZONE_ABBREVIATIONS: readonly string[] = [
  'SST-660 Pacific/Midway Pacific/Pago_Pago Pacific/Samoa US/Samoa',
  'HST-600 HST Pacific/Honolulu Pacific/Johnston US/Hawaii',
  'HST-600,HDT-540 America/Adak America/Atka US/Aleutian',
  'AKST-540,AKDT-480 America/Anchorage America/Juneau America/Metlakatla America/Nome America/Sitka America/Yakutat US/Alaska',
  'PST-480,PDT-420 America/Ensenada America/Los_Angeles America/Santa_Isabel America/Tijuana America/Vancouver Canada/Pacific Mexico/BajaNorte PST8PDT US/Pacific',
  'MST-420 America/Creston America/Dawson America/Dawson_Creek America/Fort_Nelson America/Hermosillo America/Mazatlan America/Phoenix America/Whitehorse Canada/Yukon MST Mexico/BajaSur US/Arizona',
  'MST-420,MDT-360 America/Boise America/Cambridge_Bay America/Ciudad_Juarez America/Denver America/Edmonton America/Inuvik America/Shiprock America/Yellowknife Canada/Mountain MST7MDT Navajo US/Mountain',
  'CST-360 America/Bahia_Banderas America/Belize America/Chihuahua America/Costa_Rica America/El_Salvador America/Guatemala America/Managua America/Merida America/Mexico_City America/Monterrey America/Regina America/Swift_Current America/Tegucigalpa Canada/Saskatchewan Mexico/General',
  'CST-360,CDT-300 America/Chicago America/Indiana/Knox America/Indiana/Tell_City America/Knox_IN America/Matamoros America/Menominee America/North_Dakota/Beulah America/North_Dakota/Center America/North_Dakota/New_Salem America/Ojinaga America/Rainy_River America/Rankin_Inlet America/Resolute America/Winnipeg CST6CDT Canada/Central US/Central US/Indiana-Starke',
  'CST-300,CDT-240 America/Havana Cuba',
  'EST-300 America/Atikokan America/Cancun America/Cayman America/Coral_Harbour America/Jamaica America/Panama EST Jamaica',
  'EST-300,EDT-240 America/Detroit America/Fort_Wayne America/Grand_Turk America/Indiana/Indianapolis America/Indiana/Marengo America/Indiana/Petersburg America/Indiana/Vevay America/Indiana/Vincennes America/Indiana/Winamac America/Indianapolis America/Iqaluit America/Kentucky/Louisville America/Kentucky/Monticello America/Louisville America/Montreal America/Nassau America/New_York America/Nipigon America/Pangnirtung America/Port-au-Prince America/Thunder_Bay America/Toronto Canada/Eastern EST5EDT US/East-Indiana US/Eastern US/Michigan',
  'AST-240 America/Anguilla America/Antigua America/Aruba America/Barbados America/Blanc-Sablon America/Curacao America/Dominica America/Grenada America/Guadeloupe America/Kralendijk America/Lower_Princes America/Marigot America/Martinique America/Montserrat America/Port_of_Spain America/Puerto_Rico America/Santo_Domingo America/St_Barthelemy America/St_Kitts America/St_Lucia America/St_Thomas America/St_Vincent America/Tortola America/Virgin',
  'AST-240,ADT-180 America/Glace_Bay America/Goose_Bay America/Halifax America/Moncton America/Thule Atlantic/Bermuda Canada/Atlantic',
  'NST-210,NDT-150 America/St_Johns Canada/Newfoundland',
  'GMT+0 Africa/Abidjan Africa/Accra Africa/Bamako Africa/Banjul Africa/Bissau Africa/Conakry Africa/Dakar Africa/Freetown Africa/Lome Africa/Monrovia Africa/Nouakchott Africa/Ouagadougou Africa/Sao_Tome Africa/Timbuktu America/Danmarkshavn Atlantic/Reykjavik Atlantic/St_Helena Etc/GMT Etc/GMT+0 Etc/GMT-0 Etc/GMT0 Etc/Greenwich GMT GMT+0 GMT-0 GMT0 Greenwich Iceland',
  'GMT+0,BST+60 Europe/Belfast Europe/Guernsey Europe/Isle_of_Man Europe/Jersey Europe/London GB GB-Eire',
  'GMT+0,IST+60 Eire Europe/Dublin',
  'UTC+0 Etc/UCT Etc/UTC Etc/Universal Etc/Zulu UCT UTC Universal Zulu',
  'WET+0,WEST+60 Atlantic/Canary Atlantic/Faeroe Atlantic/Faroe Atlantic/Madeira Europe/Lisbon Portugal WET',
  'CET+60 Africa/Algiers Africa/Tunis',
  'CET+60,CEST+120 Africa/Ceuta Arctic/Longyearbyen Atlantic/Jan_Mayen CET Europe/Amsterdam Europe/Andorra Europe/Belgrade Europe/Berlin Europe/Bratislava Europe/Brussels Europe/Budapest Europe/Busingen Europe/Copenhagen Europe/Gibraltar Europe/Ljubljana Europe/Luxembourg Europe/Madrid Europe/Malta Europe/Monaco Europe/Oslo Europe/Paris Europe/Podgorica Europe/Prague Europe/Rome Europe/San_Marino Europe/Sarajevo Europe/Skopje Europe/Stockholm Europe/Tirane Europe/Vaduz Europe/Vatican Europe/Vienna Europe/Warsaw Europe/Zagreb Europe/Zurich Poland',
  'MET+60,MEST+120 MET',
  'WAT+60 Africa/Bangui Africa/Brazzaville Africa/Douala Africa/Kinshasa Africa/Lagos Africa/Libreville Africa/Luanda Africa/Malabo Africa/Ndjamena Africa/Niamey Africa/Porto-Novo',
  'CAT+120 Africa/Blantyre Africa/Bujumbura Africa/Gaborone Africa/Harare Africa/Juba Africa/Khartoum Africa/Kigali Africa/Lubumbashi Africa/Lusaka Africa/Maputo Africa/Windhoek',
  'EET+120 Africa/Tripoli Europe/Kaliningrad Libya',
  'EET+120,EEST+180 Africa/Cairo Asia/Beirut Asia/Famagusta Asia/Gaza Asia/Hebron Asia/Nicosia EET Egypt Europe/Athens Europe/Bucharest Europe/Chisinau Europe/Helsinki Europe/Kiev Europe/Kyiv Europe/Mariehamn Europe/Nicosia Europe/Riga Europe/Sofia Europe/Tallinn Europe/Tiraspol Europe/Uzhgorod Europe/Vilnius Europe/Zaporozhye',
  'IST+120,IDT+180 Asia/Jerusalem Asia/Tel_Aviv Israel',
  'SAST+120 Africa/Johannesburg Africa/Maseru Africa/Mbabane',
  'EAT+180 Africa/Addis_Ababa Africa/Asmara Africa/Asmera Africa/Dar_es_Salaam Africa/Djibouti Africa/Kampala Africa/Mogadishu Africa/Nairobi Indian/Antananarivo Indian/Comoro Indian/Mayotte',
  'MSK+180 Europe/Kirov Europe/Moscow Europe/Simferopol Europe/Volgograd W-SU',
  'PKT+300 Asia/Karachi',
  'IST+330 Asia/Calcutta Asia/Kolkata',
  'WIB+420 Asia/Jakarta Asia/Pontianak',
  'AWST+480 Australia/Perth Australia/West',
  'CST+480 Asia/Chongqing Asia/Chungking Asia/Harbin Asia/Macao Asia/Macau Asia/Shanghai Asia/Taipei PRC ROC',
  'HKT+480 Asia/Hong_Kong Hongkong',
  'PST+480 Asia/Manila',
  'WITA+480 Asia/Makassar Asia/Ujung_Pandang',
  'JST+540 Asia/Tokyo Japan',
  'KST+540 Asia/Pyongyang Asia/Seoul ROK',
  'WIT+540 Asia/Jayapura',
  'ACST+570 Australia/Darwin Australia/North',
  'ACST+570,ACDT+630 Australia/Adelaide Australia/Broken_Hill Australia/South Australia/Yancowinna',
  'AEST+600 Australia/Brisbane Australia/Lindeman Australia/Queensland',
  'AEST+600,AEDT+660 Antarctica/Macquarie Australia/ACT Australia/Canberra Australia/Currie Australia/Hobart Australia/Melbourne Australia/NSW Australia/Sydney Australia/Tasmania Australia/Victoria',
  'ChST+600 Pacific/Guam Pacific/Saipan',
  'NZST+720,NZDT+780 Antarctica/McMurdo Antarctica/South_Pole NZ Pacific/Auckland',
];

let abbreviationIndex: Map<string, Map<number, string>> | undefined;

function abbreviationsOf(timeZone: string): Map<number, string> | undefined {
  if (!abbreviationIndex) {
    abbreviationIndex = new Map();
    for (const entry of ZONE_ABBREVIATIONS) {
      const [head = '', ...zones] = entry.split(' ');
      const byOffset = new Map<number, string>();
      for (const item of head.split(',')) {
        const match = /^([A-Za-z]+)([+-]\d+)$/.exec(item);
        if (match) byOffset.set(Number(match[2]), match[1]!);
      }
      for (const zone of zones) abbreviationIndex.set(zone, byOffset);
    }
  }
  return abbreviationIndex.get(timeZone);
}

// Intl.DateTimeFormat objects are costly to build and the prompt is formatted at every step.
const zones = new Map<string, { zone: string; canonical: string }>();
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string, digits: 'numeric' | '2-digit'): Intl.DateTimeFormat {
  const key = `${digits}|${timeZone}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: digits,
      day: digits,
      hour: digits,
      minute: digits,
      second: digits,
    });
    formatters.set(key, found);
  }
  return found;
}

/** The zone name as given when it is known (Intl also accepts other letter cases), else UTC. */
function validTimeZone(timeZone: string): { zone: string; canonical: string } {
  let known = zones.get(timeZone);
  if (!known) {
    try {
      known = { zone: timeZone, canonical: new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone };
    } catch {
      known = { zone: 'UTC', canonical: 'UTC' };
    }
    zones.set(timeZone, known);
  }
  return known;
}

function offsetMinutes(date: Date, timeZone: string): number {
  const parts = formatter(timeZone, 'numeric').formatToParts(date);
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  const utc = Math.floor(date.getTime() / 1000) * 1000;
  return Math.round((local - utc) / 60_000);
}

function numericOffset(minutes: number, withMinutes: 'always' | 'when-needed'): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return withMinutes === 'always' || mm !== '00' ? `${sign}${hh}${mm}` : `${sign}${hh}`;
}

function zoneAbbreviation(zone: { zone: string; canonical: string }, offset: number): string {
  const known = abbreviationsOf(zone.zone) ?? abbreviationsOf(zone.canonical);
  // Numeric form for zones without a letter abbreviation, e.g. "-03" or "+0530".
  return known?.get(offset) ?? numericOffset(offset, 'when-needed');
}

/**
 * `strftime("%Y-%m-%d %I:%M:%S %p %Z%z")` of the time in an IANA zone, as Letta's
 * `format_datetime` (e.g. "2025-01-01 12:00:00 PM UTC+0000"), %Z being the tzdata abbreviation.
 * An unknown zone falls back to UTC.
 */
export function formatDatetime(date: Date, timeZone: string): string {
  const zone = validTimeZone(timeZone || 'UTC');
  const parts = formatter(zone.zone, '2-digit').formatToParts(date);
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '00';
  const hour24 = Number(get('hour')) % 24;
  const hour12 = hour24 % 12 === 0 ? 12 : hour24 % 12;
  const offset = offsetMinutes(date, zone.zone);
  const abbreviation = zoneAbbreviation(zone, offset);
  return (
    `${get('year')}-${get('month')}-${get('day')} ${String(hour12).padStart(2, '0')}:${get('minute')}:${get('second')} ` +
    `${hour24 < 12 ? 'AM' : 'PM'} ${abbreviation}${numericOffset(offset, 'always')}`
  );
}

export interface MemoryMetadataInput {
  agentId: string;
  timezone: string;
  recompiledAt: Date;
  /** Messages stored but not in context (total minus in-context). */
  previousMessageCount: number;
  /** The line about archival memory appears only when this is above 0. */
  archivalMemoryCount?: number;
  /** The tag line appears only when there is at least one tag. */
  archivalTags?: string[];
  /** Defaults to "default". */
  conversationId?: string;
}

/** The `<memory_metadata>` block (Letta `PromptGenerator.compile_memory_metadata_block`). */
export function compileMemoryMetadata(input: MemoryMetadataInput): string {
  const lines = [
    '<memory_metadata>',
    `- AGENT_ID: ${input.agentId}`,
    `- CONVERSATION_ID: ${input.conversationId ?? 'default'}`,
    `- System prompt last recompiled: ${formatDatetime(input.recompiledAt, input.timezone)}`,
    `- ${input.previousMessageCount} previous messages between you and the user are stored in recall memory`,
  ];
  if (input.archivalMemoryCount !== undefined && input.archivalMemoryCount > 0) {
    lines.push(`- ${input.archivalMemoryCount} total memories you created are stored in archival memory (use tools to access them)`);
  }
  if (input.archivalTags && input.archivalTags.length > 0) {
    lines.push(`- Available archival memory tags: ${input.archivalTags.join(', ')}`);
  }
  lines.push('</memory_metadata>');
  return lines.join('\n');
}

/** Letta's IN_CONTEXT_MEMORY_KEYWORD placeholder. */
export const CORE_MEMORY_PLACEHOLDER = '{CORE_MEMORY}';

/**
 * The full system prompt: `memory + "\n\n" + metadata` replaces every `{CORE_MEMORY}` in the
 * template; a template without the placeholder gets it appended after a blank line.
 */
export function compileSystemPrompt(template: string, memory: string, metadata: string): string {
  const full = `${memory}\n\n${metadata}`;
  const withPlaceholder = template.includes(CORE_MEMORY_PLACEHOLDER) ? template : `${template}\n\n${CORE_MEMORY_PLACEHOLDER}`;
  return withPlaceholder.split(CORE_MEMORY_PLACEHOLDER).join(full);
}
