/**
 * The generic integration's mapping: where, in the JSON a sender posts, to find each part of an
 * alert. Places are JSON Pointers (RFC 6901: `/alert/title`, `/labels/0`, `/a~1b` for the key
 * `a/b`, `/a~0b` for `a~b`), which name any key unambiguously, including keys with dots such as
 * flattened ECS names (`/source.ip`). No regular expressions, nothing evaluated. Pure.
 */
import { z } from 'zod';
import { OBSERVABLE_TYPES, SEVERITIES } from '../core/vocabulary.js';
import { isRecord } from './common.js';

const MAX_POINTER = 500;
const MAX_TOKENS = 32;

/** Pure. True when `pointer` is a JSON Pointer: empty (the whole document) or `/`-separated tokens. */
export function isJsonPointer(pointer: string): boolean {
  if (pointer === '') return true;
  if (!pointer.startsWith('/') || pointer.length > MAX_POINTER) return false;
  // `~` escapes only `~0` and `~1`.
  for (let i = 0; i < pointer.length; i += 1) {
    if (pointer[i] === '~' && pointer[i + 1] !== '0' && pointer[i + 1] !== '1') return false;
  }
  return pointer.split('/').length - 1 <= MAX_TOKENS;
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,8})$/;

/**
 * Pure. The value `pointer` names in `document`, or undefined when there is none. Only own
 * properties are followed (never a prototype's), array indexes must be written canonically.
 */
export function resolvePointer(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let current: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(current)) {
      if (!ARRAY_INDEX.test(token)) return undefined;
      current = current[Number(token)];
    } else if (isRecord(current) && Object.hasOwn(current, token)) {
      current = current[token];
    } else {
      return undefined;
    }
    if (current === undefined) return undefined;
  }
  return current;
}

const Pointer = z
  .string()
  .max(MAX_POINTER)
  .refine(isJsonPointer, { message: 'must be a JSON Pointer such as "/alert/title" (RFC 6901)' });

/** The mapping as posted (snake_case) and stored. */
export const GenericMappingSchema = z.strictObject({
  /** Where the list of alerts is inside one posted document; absent: the document (or each element of a posted array) is one alert. */
  items: Pointer.optional(),
  title: Pointer,
  severity: Pointer.optional(),
  /** Source value → severity (`{"P1": "critical", "3": "low"}`), tried before the built-in words. */
  severity_map: z
    .record(z.string().max(200), z.enum(SEVERITIES))
    .refine((map) => Object.keys(map).length <= 200, { message: 'at most 200 entries' })
    .optional(),
  default_severity: z.enum(SEVERITIES).default('medium'),
  /** One place, or several joined with `:` (`["/check", "/host"]`). */
  dedup_key: z.union([Pointer, z.array(Pointer).min(1).max(5)]).optional(),
  source: Pointer.optional(),
  description: Pointer.optional(),
  timestamp: Pointer.optional(),
  rule: Pointer.optional(),
  observables: z
    .array(z.strictObject({ type: z.enum(OBSERVABLE_TYPES), path: Pointer }))
    .max(50)
    .optional(),
});

export type GenericMapping = z.output<typeof GenericMappingSchema>;
