/**
 * Pure helpers the mappers share: reading a posted body into documents, times, severity words, and
 * turning validation issues into per-item errors. Nothing here throws on hostile input except
 * `parseDocuments`, which throws `UserError` when the body as a whole is unreadable (400).
 */
import type { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { Severity } from '../core/vocabulary.js';
import type { ItemError } from './types.js';

/** Items nested deeper than this are refused: storing them would recurse that deep. */
export const MAX_DEPTH = 64;
/** At most this many items (array elements, NDJSON lines, Alertmanager alerts) per post. */
export const MAX_ITEMS = 5_000;
export const MAX_TITLE = 300;
export const MAX_DESCRIPTION = 10_000;
export const MAX_KEY = 500;

export interface Documents {
  /** Each document as parsed, or an error for a line that is not JSON. */
  readonly documents: ReadonlyArray<{ readonly index: number; readonly value: unknown }>;
  readonly errors: readonly ItemError[];
}

/**
 * Reads a body as one JSON document, a JSON array of documents (each element one item), or, when
 * `ndjson` is allowed, newline-delimited JSON (each non-blank line one item; a bad line is an item
 * error, not fatal). Throws UserError `empty_body`, `invalid_json` or `too_many_items`.
 */
export function parseDocuments(body: string, options: { ndjson: boolean; arrays: boolean }): Documents {
  const text = body.replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new UserError('empty_body', 'the body is empty', { field: 'body' });
  let whole: unknown;
  let parsed = false;
  try {
    whole = JSON.parse(text);
    parsed = true;
  } catch {
    // Not one document: NDJSON, or not JSON at all.
  }
  if (parsed) {
    if (Array.isArray(whole) && options.arrays) {
      if (whole.length > MAX_ITEMS) throw tooMany(whole.length);
      return { documents: whole.map((value, index) => ({ index, value })), errors: [] };
    }
    return { documents: [{ index: 0, value: whole }], errors: [] };
  }
  if (!options.ndjson) {
    throw new UserError('invalid_json', 'the body is not a JSON document', { field: 'body' });
  }
  const documents: Array<{ index: number; value: unknown }> = [];
  const errors: ItemError[] = [];
  let index = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (index >= MAX_ITEMS) throw tooMany(index + 1);
    try {
      documents.push({ index, value: JSON.parse(line) });
    } catch {
      errors.push({ index, code: 'invalid_json', message: 'the line is not a JSON document' });
    }
    index += 1;
  }
  if (documents.length === 0) {
    // Nothing parsed at all: the body is not JSON in any form we take.
    throw new UserError('invalid_json', 'the body is neither JSON nor newline-delimited JSON', {
      field: 'body',
    });
  }
  return { documents, errors };
}

function tooMany(count: number): UserError {
  return new UserError('too_many_items', `at most ${MAX_ITEMS} items per request (got ${count}+)`, {
    field: 'body',
    limit: MAX_ITEMS,
  });
}

/** True when `value` nests no deeper than `max` (iterative: hostile depth cannot overflow the stack). */
export function withinDepth(value: unknown, max = MAX_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= max) return false;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children)
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return true;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An own property of a parsed JSON object (never one inherited from a prototype). */
export function own(value: unknown, key: string): unknown {
  return isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

/** A non-empty trimmed string, or undefined; numbers and booleans are written out. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

export function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

// Date-time as RFC 3339 / ISO 8601 writes it, fraction of any length, offset `Z`, `+hh:mm` or `+hhmm`
// (Suricata and Wazuh write `+0000`). No nested quantifiers: linear on any input.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

/**
 * Pure. An ISO 8601 UTC time from a date-time text or an epoch number (seconds, or milliseconds
 * when above 10^11), or undefined when unreadable or before 1970 (Go's zero time
 * `0001-01-01T00:00:00Z` means "unset" in Alertmanager). A time without offset is read as UTC.
 */
export function toIsoTime(value: unknown): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    const ms = value > 1e11 ? value : value * 1000;
    const date = new Date(ms);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const m = DATE_TIME.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '00', frac = '0', zone = 'Z'] = m;
  const ms = frac.padEnd(3, '0').slice(0, 3);
  const offset =
    zone === 'Z' || zone === 'z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${offset}`);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970) return undefined;
  return date.toISOString();
}

/**
 * Severity words senders use, lower case → Firebreak severity. Shared by Alertmanager
 * (`labels.severity`) and the generic integration (when it has no value map of its own).
 */
export const SEVERITY_WORDS: Readonly<Record<string, Severity>> = {
  critical: 'critical',
  crit: 'critical',
  page: 'critical',
  emergency: 'critical',
  emerg: 'critical',
  alert: 'critical',
  fatal: 'critical',
  disaster: 'critical',
  p1: 'critical',
  sev1: 'critical',
  high: 'high',
  error: 'high',
  err: 'high',
  major: 'high',
  p2: 'high',
  sev2: 'high',
  warning: 'medium',
  warn: 'medium',
  medium: 'medium',
  moderate: 'medium',
  average: 'medium',
  p3: 'medium',
  sev3: 'medium',
  low: 'low',
  minor: 'low',
  p4: 'low',
  sev4: 'low',
  info: 'info',
  informational: 'info',
  information: 'info',
  notice: 'info',
  debug: 'info',
  none: 'info',
  ok: 'info',
  p5: 'info',
  sev5: 'info',
};

/** Pure. The severity a word names (case-insensitive), or undefined. */
export function severityFromWord(value: unknown): Severity | undefined {
  const word = text(value)?.toLowerCase();
  return word !== undefined && Object.hasOwn(SEVERITY_WORDS, word) ? SEVERITY_WORDS[word] : undefined;
}

/** `['alert', 'signature']` → `alert.signature`; `['alerts', 2, 'labels']` → `alerts[2].labels`. */
export function pathText(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** The first zod issue as an item error naming the field. */
export function issueError(
  index: number,
  error: z.ZodError,
  prefix: ReadonlyArray<PropertyKey> = [],
): ItemError {
  const issue = error.issues[0];
  const field = pathText([...prefix, ...(issue?.path ?? [])]);
  return {
    index,
    code: 'invalid_item',
    message: `${field || 'item'}: ${issue?.message ?? 'invalid'}`,
    ...(field ? { field } : {}),
  };
}

/** The earlier of two ISO times (equal-length UTC strings compare as times). */
export function earlier(a: string, b: string): string {
  return a < b ? a : b;
}
