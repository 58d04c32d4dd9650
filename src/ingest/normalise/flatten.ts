/**
 * Flattening JSON into dotted keys with bounds: nesting depth, total keys and array length are capped
 * so a hostile or gigantic document costs at most a fixed amount of work and memory. Arrays of objects
 * become multi-valued dotted keys (`answers.rdata: ['a', 'b']`), as Elasticsearch reads them.
 */
import { addTag, MAX_FIELD_CHARS, scalar, type FieldScalar, type Fields } from './fields.js';

export const MAX_DEPTH = 12;
export const MAX_KEYS = 1000;
export const MAX_ARRAY = 1000;

/** Mutable counters shared by one event's flattening calls. */
export interface FlattenBudget {
  keys: number;
  truncated: boolean;
}

export function newBudget(): FlattenBudget {
  return { keys: 0, truncated: false };
}

function setOwn(fields: Fields, key: string, value: Fields[string]): void {
  if (key === '__proto__') {
    Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
  } else fields[key] = value;
}

/** Adds a scalar under `key`: the first value stays a scalar (or a one-item array when `asArray`), later ones make an array. */
function addValue(
  fields: Fields,
  key: string,
  v: FieldScalar,
  asArray: boolean,
  budget: FlattenBudget,
): void {
  if (typeof v === 'string' && v.length > MAX_FIELD_CHARS) {
    v = v.slice(0, MAX_FIELD_CHARS);
    budget.truncated = true;
  }
  const existing = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
  if (existing === undefined) {
    if (budget.keys >= MAX_KEYS) {
      budget.truncated = true;
      return;
    }
    budget.keys++;
    setOwn(fields, key, asArray ? [v] : v);
  } else if (Array.isArray(existing)) {
    if (existing.length < MAX_ARRAY) existing.push(v);
    else budget.truncated = true;
  } else {
    setOwn(fields, key, [existing, v]);
  }
}

/**
 * Pure; never throws on JSON-shaped input. Writes every scalar leaf of `value` under `prefix` (dotted
 * path) into `fields`; nulls, functions and symbols are skipped. Stops at the bounds and sets
 * `budget.truncated`.
 */
export function flattenInto(
  fields: Fields,
  value: unknown,
  prefix: string,
  budget: FlattenBudget,
  depth = 0,
  inArray = false,
): void {
  if (budget.keys >= MAX_KEYS && !inArray) {
    budget.truncated = true;
    return;
  }
  const s = scalar(value);
  if (s !== undefined) {
    if (prefix.length > 0) addValue(fields, prefix, s, inArray, budget);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth >= MAX_DEPTH) {
    budget.truncated = true;
    return;
  }
  if (Array.isArray(value)) {
    const n = Math.min(value.length, MAX_ARRAY);
    if (value.length > MAX_ARRAY) budget.truncated = true;
    for (let i = 0; i < n; i++) flattenInto(fields, value[i], prefix, budget, depth + 1, true);
    return;
  }
  for (const key of Object.keys(value)) {
    if (budget.keys >= MAX_KEYS) {
      budget.truncated = true;
      return;
    }
    flattenInto(
      fields,
      (value as Record<string, unknown>)[key],
      prefix.length > 0 ? `${prefix}.${key}` : key,
      budget,
      depth + 1,
      inArray,
    );
  }
}

/** Tags the event when a flattening budget ran out. */
export function tagIfTruncated(fields: Fields, budget: FlattenBudget): void {
  if (budget.truncated) addTag(fields, '_flatten_truncated');
}

/** Reads a nested value by path segments (`get(doc, 'alert', 'signature')`), or undefined. */
export function get(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** A nested string (numbers rendered as text), or undefined. */
export function getStr(value: unknown, ...path: string[]): string | undefined {
  const v = get(value, ...path);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A nested non-negative integer (number or digit string), or undefined. */
export function getInt(value: unknown, ...path: string[]): number | undefined {
  const v = get(value, ...path);
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.length === 0 || t.length > 15) return undefined;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
    }
    return Number(t);
  }
  return undefined;
}
