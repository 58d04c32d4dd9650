/**
 * Choosing how to read a file: by its name and its first bytes, unless the user said. Pure.
 */
import { UserError } from '../../core/errors.js';
import { FORMAT_HINTS, type FormatHint } from '../event-record.js';
import type { FileLayout, ReadPlan } from './file-record.js';

/** What `--format` accepts: a format hint, or `csv` (rows of a CSV file with a header). */
export const FILE_FORMATS = [...FORMAT_HINTS, 'csv'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** How many bytes of a file (after decompression) detection looks at. */
export const SNIFF_BYTES = 64 * 1024;

const EVTX_MAGIC = [0x45, 0x6c, 0x66, 0x46, 0x69, 0x6c, 0x65, 0x00]; // "ElfFile\0"

// Shapes of one line. Each is anchored and made of classes that cannot overlap with what follows
// them, so none backtracks more than a bounded amount; they only ever see sampled lines.
const CEF_LINE = /(?:^|[\s:>])CEF:\d{1,2}\|/;
const AUDITD_LINE = /^(?:node=\S+ )?type=[A-Z_]+ msg=audit\(\d+\.\d+:\d+\)/;
const ACCESS_LOG_LINE = /^(?:\S+ ){3,4}\[[^\]]{10,40}\] "[^"]*" \d{3} (?:\d+|-)/;
const SYSLOG_LINE =
  /^(?:<\d{1,3}>\d{0,2} ?)?(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*) \S/;

const LINE_SHAPES: ReadonlyArray<readonly [FormatHint, RegExp]> = [
  ['cef', CEF_LINE],
  ['auditd', AUDITD_LINE],
  ['access_log', ACCESS_LOG_LINE],
  ['syslog', SYSLOG_LINE],
];

/** The format of one text line, or undefined when it has none of the known shapes. */
export function lineShape(line: string): FormatHint | undefined {
  for (const [format, shape] of LINE_SHAPES) if (shape.test(line)) return format;
  return undefined;
}

/** `auth.log.gz` → `{ base: 'auth.log', extension: '.log' }` (lower case). */
function nameParts(name: string): { extension: string } {
  const base = name.replace(/\.gz$/i, '');
  const slash = Math.max(base.lastIndexOf('/'), base.lastIndexOf('\\'));
  const file = base.slice(slash + 1);
  const dot = file.lastIndexOf('.');
  return { extension: dot > 0 ? file.slice(dot).toLowerCase() : '' };
}

function startsWithBytes(head: Uint8Array, magic: readonly number[]): boolean {
  if (head.length < magic.length) return false;
  return magic.every((b, i) => head[i] === b);
}

/** True when the text opens a JSON object or an array of objects. */
function looksLikeJson(text: string): boolean {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('{')) {
    const next = trimmed.slice(1).trimStart()[0];
    return next === undefined || next === '"' || next === '}';
  }
  if (trimmed.startsWith('[')) {
    const next = trimmed.slice(1).trimStart()[0];
    return next === undefined || next === '{' || next === ']';
  }
  return false;
}

/**
 * The most common line shape among the first lines of `text` (at most 50 non-empty lines; the last
 * one is ignored unless the text is the whole file, since it may be cut). `auto` when fewer than
 * half the lines share a shape.
 */
export function sniffLineFormat(text: string, complete: boolean): FormatHint {
  const lines = text.split('\n');
  if (!complete && lines.length > 1) lines.pop();
  const counts = new Map<FormatHint, number>();
  let sampled = 0;
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    if (++sampled > 50) break;
    const shape = lineShape(line.slice(0, 4096));
    if (shape !== undefined) counts.set(shape, (counts.get(shape) ?? 0) + 1);
  }
  sampled = Math.min(sampled, 50);
  let best: FormatHint = 'auto';
  let bestCount = 0;
  for (const [format, count] of counts) {
    if (count > bestCount) {
      best = format;
      bestCount = count;
    }
  }
  return sampled > 0 && bestCount * 2 >= sampled ? best : 'auto';
}

function layoutFor(format: FileFormat, evtx: boolean, detected: FileLayout): FileLayout {
  switch (format) {
    case 'csv':
      return 'csv';
    case 'windows':
      return evtx ? 'evtx' : 'json';
    case 'json':
    case 'suricata':
      return 'json';
    case 'syslog':
    case 'access_log':
    case 'cef':
    case 'auditd':
      return 'lines';
    case 'zeek':
    case 'auto':
      return detected;
  }
}

/**
 * Decides how to read a file from its name (a `.gz` suffix is looked through), its first bytes
 * (decompressed; up to SNIFF_BYTES) and an optional `--format`. Order: EVTX magic `ElfFile`, the
 * extensions .evtx, .json/.ndjson/.jsonl, .csv, then the content: a JSON object or array of objects,
 * else text lines whose shape (syslog, access log, CEF, auditd) gives the format hint (`auto` when
 * none dominates). `complete` says the head is the whole file. Pure; throws UserError
 * `ingest_binary_file` for binary content of no known format when no `--format` is given.
 */
export function planRead(
  name: string,
  head: Uint8Array,
  options: { gzip: boolean; complete: boolean; format?: FileFormat },
): ReadPlan {
  const { extension } = nameParts(name);
  const evtx = startsWithBytes(head, EVTX_MAGIC) || extension === '.evtx';
  const text = new TextDecoder('utf-8').decode(head.subarray(0, SNIFF_BYTES));
  const detected = ((): { layout: FileLayout; format: FormatHint; reason: string } => {
    if (startsWithBytes(head, EVTX_MAGIC))
      return { layout: 'evtx', format: 'windows', reason: 'EVTX signature' };
    if (extension === '.evtx') return { layout: 'evtx', format: 'windows', reason: 'extension .evtx' };
    if (extension === '.json' || extension === '.ndjson' || extension === '.jsonl')
      return { layout: 'json', format: 'auto', reason: `extension ${extension}` };
    if (extension === '.csv') return { layout: 'csv', format: 'auto', reason: 'extension .csv' };
    if (looksLikeJson(text)) return { layout: 'json', format: 'auto', reason: 'content: JSON' };
    const format = sniffLineFormat(text, options.complete);
    return {
      layout: 'lines',
      format,
      reason: format === 'auto' ? 'content: text lines' : `content: ${format} lines`,
    };
  })();
  if (options.format !== undefined) {
    return {
      layout: layoutFor(options.format, evtx, detected.layout),
      format: options.format === 'csv' ? 'auto' : options.format,
      gzip: options.gzip,
      reason: `--format ${options.format}`,
    };
  }
  if (detected.layout === 'lines' && head.subarray(0, 4096).includes(0)) {
    throw new UserError(
      'ingest_binary_file',
      `${name}: binary content of no known format (give --format to read it anyway)`,
      { file: name },
    );
  }
  return { ...detected, gzip: options.gzip };
}
