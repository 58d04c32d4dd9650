/**
 * ArcSight Common Event Format: `CEF:Version|Vendor|Product|Version|Class ID|Name|Severity|Extension`.
 * Header fields escape `\|` and `\\`; extension values run to the space before the next `key=` and
 * escape `\=`, `\\`, `\n`, `\r`. Hand-scanned: each `=` is looked at once and the key before it is
 * searched for at most 64 characters back, so the scan is linear.
 */
import { cefTextTime, parseEpoch } from './time.js';
import {
  addTag,
  hashKind,
  put,
  putAddress,
  putDefault,
  parseUint,
  type Fields,
  type Parsed,
} from './fields.js';

const MAX_KEY = 64;
const MAX_EXTENSIONS = 256;

type Mapper = (fields: Fields, value: string) => void;

const num =
  (key: string): Mapper =>
  (f, v) =>
    put(f, key, parseUint(v));
const text =
  (key: string): Mapper =>
  (f, v) =>
    put(f, key, v);

/** CEF extension keys with an ECS home (the rest stay under `cef.extensions.<key>`). */
const MAPPED: Readonly<Record<string, Mapper>> = {
  src: (f, v) => putAddress(f, 'source', v),
  dst: (f, v) => putAddress(f, 'destination', v),
  spt: num('source.port'),
  dpt: num('destination.port'),
  smac: text('source.mac'),
  dmac: text('destination.mac'),
  shost: text('source.domain'),
  dhost: text('destination.domain'),
  suser: text('source.user.name'),
  duser: text('destination.user.name'),
  suid: text('source.user.id'),
  duid: text('destination.user.id'),
  sntdom: text('source.user.domain'),
  dntdom: text('destination.user.domain'),
  sproc: text('process.name'),
  spid: num('process.pid'),
  act: text('event.action'),
  app: (f, v) => put(f, 'network.protocol', v.toLowerCase()),
  proto: (f, v) => put(f, 'network.transport', v.toLowerCase()),
  request: text('url.original'),
  requestMethod: text('http.request.method'),
  requestClientApplication: text('user_agent.original'),
  msg: text('message'),
  outcome: (f, v) => {
    const o = v.toLowerCase();
    if (o === 'success' || o === 'failure') put(f, 'event.outcome', o);
    else put(f, 'cef.extensions.outcome', v);
  },
  fname: text('file.name'),
  filePath: text('file.path'),
  fsize: num('file.size'),
  fileHash: (f, v) => {
    const kind = hashKind(v);
    if (kind !== undefined) put(f, `file.hash.${kind}`, v.toLowerCase());
    else put(f, 'cef.extensions.fileHash', v);
  },
  in: num('source.bytes'),
  out: num('destination.bytes'),
  dvc: text('observer.ip'),
  dvchost: text('observer.hostname'),
  start: (f, v) => {
    const t = cefTime(v);
    if (t !== undefined) put(f, 'event.start', new Date(t).toISOString());
  },
  end: (f, v) => {
    const t = cefTime(v);
    if (t !== undefined) put(f, 'event.end', new Date(t).toISOString());
  },
};

/** CEF times: epoch milliseconds or `Mmm dd yyyy hh:mm:ss[.SSS]`. */
function cefTime(value: string): number | undefined {
  return parseEpoch(value) ?? cefTextTime(value);
}

const SEVERITY_WORDS: Readonly<Record<string, number>> = {
  low: 3,
  medium: 6,
  high: 8,
  'very-high': 10,
  'very high': 10,
};

function unescapeHeader(s: string): string {
  return s.indexOf('\\') < 0 ? s : s.replace(/\\([|\\])/g, '$1');
}

function unescapeValue(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      const n = s[++i];
      out += n === 'n' ? '\n' : n === 'r' ? '\r' : n;
    } else out += c;
  }
  return out;
}

/** Whether text[i] is preceded by an odd number of backslashes (escaped). */
function escaped(text: string, i: number): boolean {
  let n = 0;
  while (i - 1 - n >= 0 && text.charCodeAt(i - 1 - n) === 92 && n < 1024) n++;
  return (n & 1) === 1;
}

function isKeyChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 ||
    c === 46 ||
    c === 45 ||
    c === 91 ||
    c === 93
  );
}

/** The start of the key ending at `eq` (exclusive), if text[start, eq) is a key after a space or `from`. */
function keyStart(text: string, eq: number, from: number): number {
  let i = eq - 1;
  const min = Math.max(from, eq - MAX_KEY);
  while (i >= min && isKeyChar(text.charCodeAt(i))) i--;
  if (i === eq - 1) return -1;
  if (i < from) return from;
  return text.charCodeAt(i) === 32 ? i + 1 : -1;
}

/** Extension `key=value` pairs, in order. */
export function parseCefExtension(text: string): [string, string][] {
  const out: [string, string][] = [];
  let p = 0;
  while (p < text.length && text.charCodeAt(p) === 32) p++;
  // The first key.
  let eq = text.indexOf('=', p);
  while (eq >= 0 && (escaped(text, eq) || keyStart(text, eq, p) !== p)) eq = text.indexOf('=', eq + 1);
  if (eq < 0) return out;
  let key = text.slice(p, eq);
  let valueStart = eq + 1;
  let search = valueStart;
  for (;;) {
    const next = text.indexOf('=', search);
    if (next < 0) {
      out.push([key, unescapeValue(text.slice(valueStart).trimEnd())]);
      return out;
    }
    search = next + 1;
    if (escaped(text, next)) continue;
    const ks = keyStart(text, next, valueStart);
    if (ks <= valueStart) continue; // no space-separated key before this `=`: part of the value
    out.push([key, unescapeValue(text.slice(valueStart, ks - 1).trimEnd())]);
    if (out.length >= MAX_EXTENSIONS) return out;
    key = text.slice(ks, next);
    valueStart = next + 1;
  }
}

/** Splits the header on unescaped pipes: the seven header fields and the extension, or undefined. */
function splitHeader(line: string, start: number): string[] | undefined {
  const parts: string[] = [];
  let from = start;
  let i = start;
  while (parts.length < 7) {
    const bar = line.indexOf('|', i);
    if (bar < 0) return undefined;
    if (escaped(line, bar)) {
      i = bar + 1;
      continue;
    }
    parts.push(unescapeHeader(line.slice(from, bar)));
    from = i = bar + 1;
  }
  parts.push(line.slice(from));
  return parts;
}

/**
 * Pure; never throws. Parses a CEF record (`CEF:` at the start, or after a syslog header the caller
 * removed). Returns undefined when the header is incomplete.
 */
export function parseCef(line: string): Parsed | undefined {
  const at = line.indexOf('CEF:');
  if (at < 0 || at > 0) return undefined;
  const parts = splitHeader(line, 4);
  if (parts === undefined) return undefined;
  const [version, vendor, product, deviceVersion, classId, name, severity, extension] = parts;
  const fields: Fields = {};
  put(fields, 'event.module', 'cef');
  put(fields, 'event.dataset', 'cef');
  put(fields, 'event.kind', 'event');
  put(fields, 'cef.version', version);
  put(fields, 'cef.device.vendor', vendor);
  put(fields, 'cef.device.product', product);
  put(fields, 'cef.device.version', deviceVersion);
  put(fields, 'cef.device.event_class_id', classId);
  put(fields, 'cef.name', name);
  put(fields, 'cef.severity', severity);
  put(fields, 'observer.vendor', vendor);
  put(fields, 'observer.product', product);
  put(fields, 'observer.version', deviceVersion);
  put(fields, 'event.code', classId);
  if (severity !== undefined) {
    const n = parseUint(severity.trim());
    const sev = n !== undefined ? Math.min(n, 10) : SEVERITY_WORDS[severity.trim().toLowerCase()];
    put(fields, 'event.severity', sev);
  }
  let time: number | undefined;
  const labels = new Map<string, string>();
  const pairs = parseCefExtension(extension ?? '');
  if (pairs.length >= MAX_EXTENSIONS) addTag(fields, '_cef_extensions_truncated');
  for (const [key, value] of pairs) {
    if (key === 'rt') {
      time = cefTime(value);
      put(fields, 'cef.extensions.rt', value);
      continue;
    }
    if (key.endsWith('Label')) labels.set(key.slice(0, -5), value);
    const mapper = Object.prototype.hasOwnProperty.call(MAPPED, key) ? MAPPED[key] : undefined;
    if (mapper !== undefined) mapper(fields, value);
    else put(fields, `cef.extensions.${key}`, value);
  }
  for (const [key, label] of labels) {
    const value = fields[`cef.extensions.${key}`];
    if (value !== undefined && label.length > 0 && label.length <= MAX_KEY) {
      put(fields, `cef.extensions.labelled.${label}`, value);
    }
  }
  putDefault(fields, 'message', name);
  return { parser: 'cef', fields, time };
}
