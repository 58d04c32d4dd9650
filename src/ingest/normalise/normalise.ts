/**
 * The normaliser: one received event in, one ECS event out. Chooses the parser from the format hint
 * and the content, fills the fields every event has (`@timestamp`, `event.kind/module/dataset`,
 * `event.created`, `message`) and the observables. Pure, synchronous, and it never throws: an input no
 * parser reads is kept as `raw`, and an unexpected failure inside a parser falls back to `raw` too.
 */
import type { FormatHint, NormalisedEvent, ReceivedEvent } from '../event-record.js';
import { parseAccessLog } from './access-log.js';
import { looksLikeAuditd, parseAuditd } from './auditd.js';
import { parseCef } from './cef.js';
import {
  addTag,
  MAX_FIELD_CHARS,
  put,
  putDefault,
  type Fields,
  type ParseContext,
  type Parsed,
} from './fields.js';
import { parseJsonDocument, tryParseJson, type JsonHint } from './json.js';
import { extractObservables } from './observables.js';
import { isSshdApp, parseOpensshMessage } from './openssh.js';
import { parseSudoMessage } from './sudo.js';
import { parseSyslogHeader, syslogParsed } from './syslog.js';
import { parseIsoTime, toIso } from './time.js';

/** The time used when even the receive time is unreadable (never expected: the edge sets it). */
const EPOCH_ISO = '1970-01-01T00:00:00.000Z';

/** Merges a program parser's result over the syslog header's fields. */
function over(header: Parsed, inner: Parsed): Parsed {
  const fields: Fields = header.fields;
  for (const key of Object.keys(inner.fields)) {
    const v = inner.fields[key];
    if (v !== undefined) put(fields, key, v);
  }
  return { parser: inner.parser, fields, time: inner.time ?? header.time };
}

/** Audit records arrive through these syslog programs (audisp's syslog plugin, the kernel). */
const AUDIT_APPS = new Set(['audit', 'auditd', 'audispd', 'audisp-syslog', 'kernel', 'audisp']);

/**
 * Pure; never throws. A syslog line (any of the header forms syslog.ts reads) with its message handed
 * to the program parsers: sshd, sudo, CEF, audit, JSON payloads. Undefined when it has no syslog header.
 */
export function parseSyslogLine(line: string, ctx: ParseContext): Parsed | undefined {
  const header = parseSyslogHeader(line, ctx);
  if (header === undefined) return undefined;
  const base = syslogParsed(header);
  const app = header.appName;
  const msg = header.message;
  if (app !== undefined && isSshdApp(app)) {
    parseOpensshMessage(msg, base.fields);
    return { parser: 'openssh', fields: base.fields, time: base.time };
  }
  if (app === 'sudo') {
    parseSudoMessage(msg, base.fields);
    return { parser: 'sudo', fields: base.fields, time: base.time };
  }
  if (msg.startsWith('CEF:')) {
    const cef = parseCef(msg);
    if (cef !== undefined) return over(base, cef);
  }
  if ((app === undefined || AUDIT_APPS.has(app) || msg.startsWith('type=')) && looksLikeAuditd(msg)) {
    const audit = parseAuditd(msg);
    if (audit !== undefined) return over(base, audit);
  }
  let payload = msg;
  if (payload.startsWith('@cee:')) payload = payload.slice(5).trimStart();
  if (payload.charCodeAt(0) === 123 && payload.charCodeAt(payload.length - 1) === 125) {
    const doc = tryParseJson(payload);
    if (doc !== undefined) {
      const inner = parseJsonDocument(doc, app === 'suricata' ? 'suricata' : undefined, ctx.sourceName);
      if (inner.parser !== 'json') return over(base, inner);
      // An unrecognised JSON payload is kept beside the syslog fields, under `json.*`.
      for (const key of Object.keys(inner.fields)) {
        if (!key.startsWith('event.')) put(base.fields, `json.${key}`, inner.fields[key]);
      }
    }
  }
  return base;
}

function rawParsed(text: string): Parsed {
  const fields: Fields = {};
  // Raw events always carry `message`, even an empty one.
  put(fields, 'message', text);
  if (fields['message'] === undefined) fields['message'] = text;
  put(fields, 'event.module', 'raw');
  put(fields, 'event.dataset', 'raw');
  put(fields, 'event.kind', 'event');
  return { parser: 'raw', fields };
}

/** Drops trailing line breaks, NULs and spaces a frame may carry. */
function trimEnd(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 10 && c !== 13 && c !== 0 && c !== 32 && c !== 9) break;
    end--;
  }
  return end === text.length ? text : text.slice(0, end);
}

function jsonHint(format: FormatHint): JsonHint {
  return format === 'windows' || format === 'suricata' || format === 'zeek' ? format : undefined;
}

/** Recognises a text line by its content. */
function parseAuto(text: string, ctx: ParseContext, hint: JsonHint): Parsed {
  const c = text.charCodeAt(0);
  if (c === 123 || c === 91) {
    const doc = tryParseJson(text);
    if (doc !== undefined && typeof doc === 'object' && doc !== null)
      return parseJsonDocument(doc, hint, ctx.sourceName);
  }
  if (c === 67 && text.startsWith('CEF:')) {
    const cef = parseCef(text);
    if (cef !== undefined) return cef;
  }
  if ((c === 116 || c === 110 || c === 97) && looksLikeAuditd(text)) {
    const audit = parseAuditd(text);
    if (audit !== undefined) return audit;
  }
  if (c === 60) {
    const s = parseSyslogLine(text, ctx);
    if (s !== undefined) return s;
  }
  const access = parseAccessLog(text);
  if (access !== undefined) return access;
  const s = parseSyslogLine(text, ctx);
  if (s !== undefined) return s;
  return rawParsed(text);
}

function parseText(text: string, format: FormatHint, ctx: ParseContext): Parsed {
  switch (format) {
    case 'syslog':
      return parseSyslogLine(text, ctx) ?? parseAuto(text, ctx, undefined);
    case 'access_log':
      return parseAccessLog(text) ?? parseAuto(text, ctx, undefined);
    case 'cef':
      return (
        (text.startsWith('CEF:') ? parseCef(text) : parseSyslogLine(text, ctx)) ??
        parseAuto(text, ctx, undefined)
      );
    case 'auditd':
      return parseAuditd(text) ?? parseAuto(text, ctx, undefined);
    default:
      return parseAuto(text, ctx, jsonHint(format));
  }
}

/** The last receive time read (events of one batch share it): text, epoch ms, canonical ISO. */
let lastReceived: { text: string; ms: number; iso: string } = { text: EPOCH_ISO, ms: 0, iso: EPOCH_ISO };

/** The receive time as epoch ms and canonical ISO text (memoised on the text: a pure cache). */
function receivedTime(event: ReceivedEvent): { ms: number; iso: string } {
  const text = event.receivedAt;
  if (typeof text !== 'string') return { ms: 0, iso: EPOCH_ISO };
  const last = lastReceived;
  if (last.text === text) return last;
  const ms = parseIsoTime(text) ?? 0;
  const next = { text, ms, iso: toIso(ms) };
  lastReceived = next;
  return next;
}

function finish(
  event: ReceivedEvent,
  parsed: Parsed,
  received: { ms: number; iso: string },
): NormalisedEvent {
  const fields = parsed.fields;
  const timestamp = parsed.time === undefined ? received.iso : toIso(parsed.time);
  fields['@timestamp'] = timestamp;
  putDefault(fields, 'event.kind', 'event');
  putDefault(fields, 'event.module', parsed.parser);
  putDefault(fields, 'event.dataset', parsed.parser);
  put(fields, 'event.created', received.iso);
  const source = event.source as ReceivedEvent['source'] | undefined;
  if (source !== undefined && source !== null) {
    if (typeof source.peer === 'string') putDefault(fields, 'log.source.address', source.peer);
    if (source.kind === 'file' && typeof source.name === 'string')
      putDefault(fields, 'log.file.path', source.name);
  }
  return { timestamp, parser: parsed.parser, fields, observables: extractObservables(fields) };
}

/** The last resort: a raw event built without any parser (used when something unexpected threw). */
function fallback(event: ReceivedEvent): NormalisedEvent {
  try {
    const received = receivedTime(event);
    let text = '';
    try {
      text = typeof event.raw === 'string' ? event.raw : JSON.stringify(event.raw);
    } catch {
      text = '';
    }
    if (typeof text !== 'string') text = '';
    const parsed = rawParsed(text.slice(0, MAX_FIELD_CHARS));
    addTag(parsed.fields, '_normalise_failed');
    return finish(event, parsed, received);
  } catch {
    return {
      timestamp: EPOCH_ISO,
      parser: 'raw',
      fields: {
        '@timestamp': EPOCH_ISO,
        'event.kind': 'event',
        'event.module': 'raw',
        'event.dataset': 'raw',
        tags: ['_normalise_failed'],
      },
      observables: [],
    };
  }
}

/**
 * Pure, synchronous; never throws, whatever the input. Parses a received event into ECS fields (flat
 * dotted keys) by its format hint and content; unknown formats come back as parser `raw` with
 * `@timestamp` and `message`. `timestamp` is the event's own time when readable, else the receive time.
 */
export function normalise(event: ReceivedEvent): NormalisedEvent {
  try {
    const received = receivedTime(event);
    const ctx: ParseContext = {
      receivedAt: received.ms,
      sourceName: typeof event.source?.name === 'string' ? event.source.name : undefined,
    };
    const raw: unknown = event.raw;
    let parsed: Parsed;
    if (typeof raw === 'object' && raw !== null) {
      parsed = parseJsonDocument(raw, jsonHint(event.format), ctx.sourceName);
    } else {
      const text = trimEnd(typeof raw === 'string' ? raw : String(raw));
      parsed = parseText(text, event.format, ctx);
    }
    return finish(event, parsed, received);
  } catch {
    return fallback(event);
  }
}
