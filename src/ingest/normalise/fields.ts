/**
 * The field map every parser fills: flat dotted ECS keys, scalar values or arrays of scalars, plus the
 * small helpers the parsers share. Pure.
 */

/** A value a field may hold (ECS keyword/number/boolean, or an array of them). */
export type FieldScalar = string | number | boolean;
export type FieldValue = FieldScalar | FieldScalar[];
export type Fields = Record<string, FieldValue>;

/** What a parser returns when it recognises its input; `time` is the event's own time (epoch ms). */
export interface Parsed {
  /** Parser name, as `NormalisedEvent.parser`. */
  readonly parser: string;
  readonly fields: Fields;
  readonly time?: number | undefined;
}

/** What the parsers may know besides the input itself. */
export interface ParseContext {
  /** When Firebreak accepted the event (epoch ms); used to infer the year of RFC 3164 timestamps. */
  readonly receivedAt: number;
  /** Source name (listener, integration or file name), when known. */
  readonly sourceName?: string | undefined;
}

/** Longest string kept in one field; longer values are cut and the event tagged `_field_truncated`. */
export const MAX_FIELD_CHARS = 65_536;

/** A fresh field map. Keys never come from the prototype: `__proto__` is stored as a plain key. */
export function newFields(): Fields {
  return {};
}

/**
 * Sets `key` unless `value` is empty (undefined, '' or '-'). `__proto__` is defined as an own property so
 * hostile keys cannot replace the map's prototype.
 */
export function put(fields: Fields, key: string, value: FieldValue | undefined | null): void {
  if (value === undefined || value === null || value === '' || value === '-') return;
  if (typeof value === 'string' && value.length > MAX_FIELD_CHARS) {
    value = value.slice(0, MAX_FIELD_CHARS);
    addTag(fields, '_field_truncated');
  }
  if (key === '__proto__') {
    Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    fields[key] = value;
  }
}

/** Sets `key` to `value` as written (placeholders `-` and `''` kept: source data such as Windows event data). */
export function putVerbatim(fields: Fields, key: string, value: FieldValue): void {
  if (value === '' || value === '-') {
    if (key === '__proto__') return;
    fields[key] = value;
    return;
  }
  put(fields, key, value);
}

/** Sets `key` only when it is not set yet. */
export function putDefault(fields: Fields, key: string, value: FieldValue | undefined | null): void {
  if (!Object.prototype.hasOwnProperty.call(fields, key)) put(fields, key, value);
}

/** Appends a tag to the ECS `tags` array. */
export function addTag(fields: Fields, tag: string): void {
  const tags = fields['tags'];
  if (Array.isArray(tags)) {
    if (!tags.includes(tag)) tags.push(tag);
  } else if (typeof tags === 'string') {
    if (tags !== tag) fields['tags'] = [tags, tag];
  } else {
    fields['tags'] = [tag];
  }
}

/** The string form of a field, or undefined when it is absent or not a scalar. */
export function str(fields: Fields, key: string): string | undefined {
  const v = fields[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** A non-negative decimal integer written with 1-15 digits, or undefined. */
export function parseUint(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = text.length;
  if (n === 0 || n > 15) return undefined;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    value = value * 10 + c;
  }
  return value;
}

/** A decimal integer (optionally negative) or `0x`-prefixed hex, as Windows writes ids; else undefined. */
export function parseIntLoose(text: unknown): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) ? text : undefined;
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (t.length > 2 && t.charCodeAt(0) === 48 && (t.charCodeAt(1) | 0x20) === 120) {
    if (t.length > 15 || !isHex(t, 2, t.length)) return undefined;
    return parseInt(t.slice(2), 16);
  }
  if (t.charCodeAt(0) === 45) {
    const v = parseUint(t.slice(1));
    return v === undefined ? undefined : -v;
  }
  return parseUint(t);
}

/** Whether text[start, end) is non-empty and all hexadecimal digits. */
export function isHex(text: string, start = 0, end = text.length): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** The last path component of a Windows or POSIX path. */
export function baseName(path: string): string {
  let i = path.length - 1;
  while (i >= 0) {
    const c = path.charCodeAt(i);
    if (c === 47 || c === 92) break;
    i--;
  }
  return path.slice(i + 1);
}

/** Whether `s` is a plain object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON-ish scalar as a field value; objects, functions and symbols give undefined. */
export function scalar(value: unknown): FieldScalar | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'bigint':
      return value.toString();
    default:
      return undefined;
  }
}

/** Splits a Sysmon/Windows `Hashes` value (`SHA1=..,MD5=..,SHA256=..,IMPHASH=..`) into hash fields. */
export function putHashes(fields: Fields, prefix: string, hashes: string): void {
  for (const part of hashes.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const algo = part.slice(0, eq).trim().toLowerCase();
    const value = part
      .slice(eq + 1)
      .trim()
      .toLowerCase();
    if (!isHex(value)) continue;
    if (algo === 'md5' || algo === 'sha1' || algo === 'sha256' || algo === 'sha512') {
      put(fields, `${prefix}.${algo}`, value);
    } else if (algo === 'imphash') {
      put(fields, `${prefix}.imphash`, value);
    }
  }
}

/** The hash field name for a hex digest by its length (md5, sha1, sha256, sha512), or undefined. */
export function hashKind(value: string): 'md5' | 'sha1' | 'sha256' | 'sha512' | undefined {
  if (!isHex(value)) return undefined;
  switch (value.length) {
    case 32:
      return 'md5';
    case 40:
      return 'sha1';
    case 64:
      return 'sha256';
    case 128:
      return 'sha512';
    default:
      return undefined;
  }
}

/**
 * Whether `text` looks like an IPv4 or IPv6 address (cheap shape check: dotted quad of 1-3 digit parts,
 * or hex digits and colons with an optional dotted tail and zone). Observables validate fully later.
 */
export function looksLikeIp(text: string): boolean {
  const n = text.length;
  if (n < 2 || n > 64) return false;
  if (text.indexOf(':') >= 0) {
    let colons = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 58) colons++;
      else if (c === 37)
        return colons >= 2 && i > 0; // zone id (fe80::1%eth0)
      else if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46))
        return false;
    }
    return colons >= 2;
  }
  let dots = 0;
  let run = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (run === 0) return false;
      dots++;
      run = 0;
    } else if (c >= 48 && c <= 57) {
      if (++run > 3) return false;
    } else return false;
  }
  return dots === 3 && run > 0;
}

/** Puts an address or a host name under `<prefix>.ip` or `<prefix>.domain`. */
export function putAddress(fields: Fields, prefix: string, value: string | undefined): void {
  if (value === undefined || value === '' || value === '-' || value === '?') return;
  put(fields, looksLikeIp(value) ? `${prefix}.ip` : `${prefix}.domain`, value);
}
