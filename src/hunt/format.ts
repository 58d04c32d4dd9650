import { stringify } from 'csv-stringify/sync';
import { prepareEvent, scalarText } from '../detection/event.js';
import { eventHost } from './event-host.js';
import { EVENT_TEXT, levelRank, type HuntMatch, type HuntSummary } from './hunt.js';

/**
 * One line of `hunt --json`. A rule match on JSON input writes its event as the input has it (when the
 * document is on one line: numbers past 2^53 and escapes stay exactly as written), without parsing it.
 */
export function formatMatchLine(m: HuntMatch): string {
  const text = m[EVENT_TEXT];
  if (text === undefined) return JSON.stringify(m);
  const head = JSON.stringify({
    rule_id: m.rule_id,
    rule_title: m.rule_title,
    level: m.level,
    file: m.file,
    record: m.record,
    timestamp: m.timestamp,
  });
  return `${head.slice(0, -1)},"event":${text.oneLine()}}`;
}

/** The columns of `hunt --csv`, a timeline in the manner of Hayabusa's and Chainsaw's CSV output. */
export const CSV_COLUMNS = [
  'timestamp',
  'level',
  'rule_title',
  'rule_id',
  'computer',
  'channel',
  'event_id',
  'record',
  'file',
  'details',
  'event',
] as const;

/**
 * Where the CSV's channel and event id come from: the System fields of a Windows event, the ECS fields
 * of any other (`event.dataset`, `event.code`). The computer is `eventHost`'s.
 */
const CSV_SOURCES = {
  windows: ['Channel', 'EventID'],
  other: ['event.dataset', 'event.code'],
} as const;

/** The header line of `hunt --csv`. */
export function formatCsvHeader(): string {
  return stringify([[...CSV_COLUMNS]]);
}

/**
 * One line of `hunt --csv` (RFC 4180, with the line break). Cells that a spreadsheet would run as a
 * formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) get a leading `'`: log fields are
 * written by whoever wrote the logs, an attacker included.
 */
export function formatMatchCsv(m: HuntMatch): string {
  const raw = m.event;
  const prepared = raw === null || typeof raw !== 'object' ? null : prepareEvent(raw);
  const sources = prepared?.product === 'windows' ? CSV_SOURCES.windows : CSV_SOURCES.other;
  const field = (i: number): string =>
    prepared === null ? '' : (scalarText(prepared.get(sources[i]!)) ?? '');
  const text = m[EVENT_TEXT];
  const row = [
    m.timestamp ?? '',
    m.level,
    m.rule_title,
    m.rule_id,
    prepared === null ? '' : (eventHost(prepared) ?? ''),
    field(0),
    field(1),
    m.record === null ? '' : String(m.record),
    m.file,
    eventBrief(raw),
    text === undefined ? JSON.stringify(raw) : text.oneLine(),
  ];
  return stringify([row], { escape_formulas: true });
}

function cut(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}

/** A short description of the event for the table: host and the most telling field. */
function eventBrief(event: unknown): string {
  if (typeof event !== 'object' || event === null) return '';
  const e = event as Record<string, unknown>;
  const inner = (e['Event'] as Record<string, unknown> | undefined) ?? undefined;
  const data = (inner?.['EventData'] ??
    (e['winlog'] as Record<string, unknown> | undefined)?.['event_data'] ??
    e) as Record<string, unknown> | null;
  if (data === null || typeof data !== 'object') return '';
  for (const key of [
    'CommandLine',
    'ScriptBlockText',
    'TargetFilename',
    'TargetObject',
    'QueryName',
    'DestinationIp',
    'ImageLoaded',
    'Image',
    'TargetUserName',
    'group',
    'message',
  ]) {
    const v = data[key];
    if (v !== undefined && v !== null)
      return `${key}=${typeof v === 'string' ? v : JSON.stringify(v)}`.replace(/\s+/g, ' ');
  }
  return '';
}

/** The human-readable table of matches, sorted by time (matches without time last). */
export function formatMatchTable(matches: readonly HuntMatch[]): string {
  if (matches.length === 0) return 'no matches\n';
  const sorted = [...matches].sort((a, b) =>
    (a.timestamp ?? '\uffff').localeCompare(b.timestamp ?? '\uffff'),
  );
  const lines = [
    `${'TIME'.padEnd(24)}  ${'LEVEL'.padEnd(13)}  ${'RULE'.padEnd(50)}  ${'WHERE'.padEnd(30)}  EVENT`,
  ];
  for (const m of sorted) {
    const where = `${m.file.split('/').pop() ?? m.file}${m.record === null ? '' : `#${m.record}`}`;
    lines.push(
      `${cut(m.timestamp ?? '-', 24)}  ${cut(m.level, 13)}  ${cut(m.rule_title, 50)}  ${cut(where, 30)}  ${cut(eventBrief(m.event), 80).trimEnd()}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Hosts named in the summary. */
const TOP_HOSTS = 5;

/** Matches per rule, highest level first, then count. */
export function formatSummary(summary: HuntSummary): string {
  const rows = [...summary.byRule.entries()].sort(
    (a, b) => levelRank(b[1].level) - levelRank(a[1].level) || b[1].count - a[1].count,
  );
  const seconds = summary.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(summary.events / seconds) : summary.events;
  const outside =
    summary.outsideWindow > 0 ? `, ${summary.outsideWindow} of them outside the time window` : '';
  const lines = [
    `\n${summary.matches} matches from ${rows.length} rules in ${summary.events} events${outside} (${seconds.toFixed(1)} s, ${rate} events/s)`,
  ];
  const levels = [...summary.byLevel.entries()].sort((a, b) => levelRank(b[0]) - levelRank(a[0]));
  if (levels.length > 0) lines.push(`by level: ${levels.map(([l, n]) => `${n} ${l}`).join(', ')}`);
  const hosts = [...summary.byHost.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (hosts.length > 0)
    lines.push(
      `hosts with the most rule matches: ${hosts
        .slice(0, TOP_HOSTS)
        .map(([h, n]) => `${h} (${n})`)
        .join(', ')}${hosts.length > TOP_HOSTS ? `, and ${hosts.length - TOP_HOSTS} more` : ''}`,
    );
  for (const [id, r] of rows)
    lines.push(`  ${String(r.count).padStart(7)}  ${cut(r.level, 13)}  ${r.title}  (${id})`);
  return `${lines.join('\n')}\n`;
}

/** Text output of `rules validate`. */
export function formatValidation(result: {
  total: number;
  compiled: number;
  failed: ReadonlyArray<{ file: string; reason: string }>;
}): string {
  const lines = result.failed.map((f) => `FAIL ${f.file}: ${f.reason}`);
  const pct = result.total === 0 ? 100 : (result.compiled / result.total) * 100;
  lines.push(
    `${result.compiled}/${result.total} rules compiled (${pct.toFixed(2)}%), ${result.failed.length} failed`,
  );
  return `${lines.join('\n')}\n`;
}
