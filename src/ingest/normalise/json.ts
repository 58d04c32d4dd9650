/**
 * JSON documents: recognised shapes (Windows, Suricata EVE, Zeek) go to their parsers; anything else is
 * flattened into dotted keys as it is (ECS documents, nested or dotted, come out as flat ECS keys) with
 * the event time picked from the usual keys.
 */
import { parseAnyTime } from './time.js';
import { isObject, put, putDefault, type Fields, type Parsed } from './fields.js';
import { flattenInto, newBudget, tagIfTruncated } from './flatten.js';
import { parseSuricata } from './suricata.js';
import { parseWindows } from './windows.js';
import { parseZeek } from './zeek.js';

/** Keys read for the event time, in order (after flattening, so `event.created` nested also counts). */
export const TIME_KEYS = [
  '@timestamp',
  'timestamp',
  'time',
  'eventTime',
  'EventTime',
  'TimeCreated',
  'ts',
  'date',
  'event.created',
] as const;

/** The hint that says which JSON parser to try first. */
export type JsonHint = 'windows' | 'suricata' | 'zeek' | undefined;

/** ECS says these are arrays; documents often carry a single string. */
function arrayify(fields: Fields, key: string): void {
  const v = fields[key];
  if (typeof v === 'string') fields[key] = [v];
}

/**
 * Pure; never throws on JSON-shaped input. Flattens any JSON value into dotted keys (a top-level
 * array or scalar goes under `json`) with the bounds of flatten.ts, and picks the event time.
 */
export function parseGenericJson(doc: unknown): Parsed {
  const fields: Fields = {};
  const budget = newBudget();
  flattenInto(fields, doc, isObject(doc) ? '' : 'json', budget);
  tagIfTruncated(fields, budget);
  let time: number | undefined;
  for (const key of TIME_KEYS) {
    const v = fields[key];
    if (v === undefined || Array.isArray(v)) continue;
    time = parseAnyTime(v);
    if (time !== undefined) break;
  }
  if (fields['message'] === undefined && typeof fields['msg'] === 'string')
    put(fields, 'message', fields['msg']);
  arrayify(fields, 'event.category');
  arrayify(fields, 'event.type');
  putDefault(fields, 'event.module', 'json');
  putDefault(fields, 'event.dataset', 'json');
  putDefault(fields, 'event.kind', 'event');
  return { parser: 'json', fields, time };
}

/**
 * Pure; never throws. Routes a parsed JSON value to the Windows, Suricata or Zeek parser when it has
 * their shape (the hinted one first), else to the generic flattener.
 */
export function parseJsonDocument(doc: unknown, hint: JsonHint, sourceName?: string): Parsed {
  if (isObject(doc)) {
    const order =
      hint === 'suricata'
        ? [parseSuricata, parseWindows]
        : hint === 'zeek'
          ? [(d: Record<string, unknown>) => parseZeek(d, sourceName), parseWindows]
          : [parseWindows, parseSuricata];
    for (const parse of order) {
      const r = parse(doc);
      if (r !== undefined) return r;
    }
    const zeek = parseZeek(doc, sourceName);
    if (zeek !== undefined) return zeek;
  }
  return parseGenericJson(doc);
}

/** JSON.parse that returns undefined instead of throwing. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
