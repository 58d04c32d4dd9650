/**
 * Syslog headers: RFC 5424, RFC 3164 (with or without PRI, as in /var/log/auth.log) and the RFC 3339
 * timestamped variant rsyslog writes to files. Hand-scanned, no regular expressions. The message is then
 * handed to the program parsers (sshd, sudo, auditd, CEF, JSON) by app name and content.
 */
import { bsdTimeAt, isoTimeAt } from './time.js';
import { addTag, put, type Fields, type ParseContext, type Parsed, parseUint } from './fields.js';

/** RFC 5424 facility keywords by code (0-23). */
export const FACILITY_NAMES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

/** RFC 5424 severity names by code (0-7). */
export const SEVERITY_NAMES = [
  'Emergency',
  'Alert',
  'Critical',
  'Error',
  'Warning',
  'Notice',
  'Informational',
  'Debug',
] as const;

/** At most this many structured-data parameters are kept per message. */
const MAX_SD_PARAMS = 128;

/** A syslog line taken apart: header fields, the event time when readable, app name and message. */
export interface SyslogHeader {
  readonly fields: Fields;
  readonly time: number | undefined;
  readonly appName: string | undefined;
  readonly message: string;
}

/** Reads `<PRI>` at the start: the priority and the index after `>`, or undefined. */
function priAt(line: string): { pri: number; end: number } | undefined {
  if (line.charCodeAt(0) !== 60) return undefined;
  let pri = 0;
  let i = 1;
  for (; i < line.length && i <= 4; i++) {
    const c = line.charCodeAt(i);
    if (c === 62) break;
    const d = c - 48;
    if (d < 0 || d > 9) return undefined;
    pri = pri * 10 + d;
  }
  if (i === 1 || i > 4 || line.charCodeAt(i) !== 62 || pri > 191) return undefined;
  return { pri, end: i + 1 };
}

function putPriority(fields: Fields, pri: number): void {
  const facility = pri >> 3;
  const severity = pri & 7;
  put(fields, 'log.syslog.priority', pri);
  put(fields, 'log.syslog.facility.code', facility);
  put(fields, 'log.syslog.facility.name', FACILITY_NAMES[facility]);
  put(fields, 'log.syslog.severity.code', severity);
  put(fields, 'log.syslog.severity.name', SEVERITY_NAMES[severity]);
  put(fields, 'log.level', SEVERITY_NAMES[severity]?.toLowerCase());
}

/** The index of the next space at or after i (or the end). */
function spaceFrom(line: string, i: number): number {
  const j = line.indexOf(' ', i);
  return j < 0 ? line.length : j;
}

function putHost(fields: Fields, host: string): void {
  if (host === '-' || host === '') return;
  put(fields, 'host.hostname', host);
  put(fields, 'host.name', host);
}

function putProcess(fields: Fields, app: string | undefined, procId: string | undefined): void {
  if (app !== undefined && app !== '-' && app !== '') {
    put(fields, 'log.syslog.appname', app);
    put(fields, 'process.name', app);
  }
  if (procId !== undefined && procId !== '-' && procId !== '') {
    put(fields, 'log.syslog.procid', procId);
    put(fields, 'process.pid', parseUint(procId));
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * RFC 5424 STRUCTURED-DATA at line[i] (`[id k="v" ...][id2 ...]`), with the escapes `\"`, `\\` and
 * `\]`. Returns the index after it, or -1 when it is malformed.
 */
function structuredDataAt(line: string, i: number, fields: Fields): number {
  let p = i;
  let params = 0;
  const n = line.length;
  while (p < n && line.charCodeAt(p) === 91) {
    // SD-ID: up to a space or `]`.
    let q = p + 1;
    while (q < n) {
      const c = line.charCodeAt(q);
      if (c === 32 || c === 93 || c === 61 || c === 34) break;
      q++;
    }
    const id = line.slice(p + 1, q);
    if (id.length === 0 || q >= n) return -1;
    p = q;
    for (;;) {
      const c = line.charCodeAt(p);
      if (c === 93) {
        p++;
        break;
      }
      if (c !== 32) return -1;
      p++;
      let e = p;
      while (e < n && line.charCodeAt(e) !== 61 && line.charCodeAt(e) !== 32 && line.charCodeAt(e) !== 93)
        e++;
      if (line.charCodeAt(e) !== 61 || line.charCodeAt(e + 1) !== 34 || e === p) return -1;
      const name = line.slice(p, e);
      p = e + 2;
      let value = '';
      let runStart = p;
      for (;;) {
        if (p >= n) return -1;
        const v = line.charCodeAt(p);
        if (v === 92) {
          const next = line.charCodeAt(p + 1);
          if (next === 34 || next === 92 || next === 93) {
            value += line.slice(runStart, p) + line[p + 1];
            p += 2;
            runStart = p;
            continue;
          }
          p++;
          continue;
        }
        if (v === 34) break;
        p++;
      }
      value += line.slice(runStart, p);
      p++;
      if (params++ < MAX_SD_PARAMS) {
        const key = `log.syslog.structured_data.${id}.${name}`;
        const existing = fields[key];
        if (existing === undefined) put(fields, key, value);
        else if (Array.isArray(existing)) existing.push(value);
        else fields[key] = [existing, value];
      } else {
        addTag(fields, '_structured_data_truncated');
      }
    }
  }
  return p;
}

function parse5424(line: string, start: number, fields: Fields): SyslogHeader | undefined {
  // VERSION: 1-2 digits, the first non-zero, then a space.
  let p = start;
  const v1 = line.charCodeAt(p) - 48;
  if (v1 < 1 || v1 > 9) return undefined;
  p++;
  const v2 = line.charCodeAt(p) - 48;
  if (v2 >= 0 && v2 <= 9) p++;
  if (line.charCodeAt(p) !== 32) return undefined;
  put(fields, 'log.syslog.version', line.slice(start, p));
  p++;
  let time: number | undefined;
  if (line.charCodeAt(p) === 45 && line.charCodeAt(p + 1) === 32) {
    p += 2;
  } else {
    const t = isoTimeAt(line, p);
    const end = spaceFrom(line, p);
    if (t !== undefined && t.end === end) time = t.time;
    else addTag(fields, '_syslog_timestamp_unreadable');
    p = end + 1;
  }
  const tokens: string[] = [];
  for (let k = 0; k < 4 && p <= line.length; k++) {
    const end = spaceFrom(line, p);
    tokens.push(line.slice(p, end));
    p = end + 1;
  }
  const [host, app, procId, msgId] = tokens;
  if (host !== undefined) {
    putHost(fields, host);
    if (host !== '-') put(fields, 'log.syslog.hostname', host);
  }
  putProcess(fields, app, procId);
  if (msgId !== undefined) put(fields, 'log.syslog.msgid', msgId);
  let message = '';
  if (p < line.length) {
    if (line.charCodeAt(p) === 45 && (p + 1 === line.length || line.charCodeAt(p + 1) === 32)) {
      p += 2;
    } else if (line.charCodeAt(p) === 91) {
      const end = structuredDataAt(line, p, fields);
      if (end < 0) addTag(fields, '_syslog_structured_data_invalid');
      else p = end + (line.charCodeAt(end) === 32 ? 1 : 0);
    }
    if (p < line.length) message = stripBom(line.slice(p));
  }
  return { fields, time, appName: app === '-' ? undefined : app, message };
}

/** Whether a token is a program tag (`name:` or `name[pid]:`) rather than a host name. */
function isTagToken(token: string): boolean {
  return token.endsWith(':') || token.includes('[');
}

/** Reads `tag[pid]: ` or `tag: ` at line[p]. */
function tagAt(line: string, p: number): { app: string; pid: string | undefined; end: number } | undefined {
  const n = line.length;
  let q = p;
  // RFC 3164 tags are at most 32 alphanumerics; real ones also use - _ . / @; allow up to 64.
  while (q < n && q - p <= 64) {
    const c = line.charCodeAt(q);
    if (c === 58 || c === 91 || c === 32) break;
    q++;
  }
  if (q === p || q >= n) return undefined;
  const app = line.slice(p, q);
  let pid: string | undefined;
  if (line.charCodeAt(q) === 91) {
    const close = line.indexOf(']', q + 1);
    if (close < 0 || close - q > 32) return undefined;
    pid = line.slice(q + 1, close);
    q = close + 1;
  }
  if (line.charCodeAt(q) !== 58) {
    // `tag[pid] message` without the colon still names the program.
    if (pid !== undefined && line.charCodeAt(q) === 32) return { app, pid, end: q + 1 };
    return undefined;
  }
  q++;
  if (q < n && line.charCodeAt(q) !== 32) return undefined;
  return { app, pid, end: q < n ? q + 1 : q };
}

function parse3164(
  line: string,
  start: number,
  fields: Fields,
  ctx: ParseContext,
  hasPri: boolean,
): SyslogHeader | undefined {
  let p = start;
  let time: number | undefined;
  const bsd = bsdTimeAt(line, p, ctx.receivedAt);
  if (bsd !== undefined && line.charCodeAt(bsd.end) === 32) {
    time = bsd.time;
    p = bsd.end + 1;
  } else {
    const iso = isoTimeAt(line, p);
    if (iso !== undefined && line.charCodeAt(iso.end) === 32) {
      time = iso.time;
      p = iso.end + 1;
    } else if (!hasPri) {
      return undefined;
    } else {
      addTag(fields, '_syslog_timestamp_missing');
    }
  }
  let rest = line.slice(p);
  if (time !== undefined && !rest.startsWith('CEF:') && !rest.startsWith('LEEF:')) {
    const end = spaceFrom(rest, 0);
    const token = rest.slice(0, end);
    if (token.length > 0 && !isTagToken(token) && end < rest.length) {
      putHost(fields, token);
      rest = rest.slice(end + 1);
    }
  }
  let appName: string | undefined;
  if (!rest.startsWith('CEF:') && !rest.startsWith('LEEF:')) {
    const tag = tagAt(rest, 0);
    if (tag !== undefined) {
      appName = tag.app;
      putProcess(fields, tag.app, tag.pid);
      rest = rest.slice(tag.end);
    }
  }
  return { fields, time, appName, message: stripBom(rest) };
}

/**
 * Pure; never throws. Takes a syslog line apart (RFC 5424, RFC 3164 with or without PRI, RFC 3339
 * timestamped file lines) into `log.syslog.*`, `host.*`, `process.*` fields, the time and the message.
 * Returns undefined when the line has no syslog header.
 */
export function parseSyslogHeader(line: string, ctx: ParseContext): SyslogHeader | undefined {
  const fields: Fields = {};
  const pri = priAt(line);
  if (pri !== undefined) {
    putPriority(fields, pri.pri);
    const c = line.charCodeAt(pri.end);
    if (c >= 49 && c <= 57) {
      const r = parse5424(line, pri.end, fields);
      if (r !== undefined) return r;
    }
    return parse3164(line, pri.end, fields, ctx, true);
  }
  return parse3164(line, 0, fields, ctx, false);
}

/** The syslog fields every syslog event gets, before a program parser adds its own. */
export function syslogParsed(header: SyslogHeader): Parsed {
  const fields = header.fields;
  put(fields, 'message', header.message);
  put(fields, 'event.module', 'syslog');
  put(fields, 'event.dataset', 'syslog');
  return { parser: 'syslog', fields, time: header.time };
}
