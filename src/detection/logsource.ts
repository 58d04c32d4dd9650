import { parse } from 'yaml';
import { invalid } from './errors.js';
import type { PreparedEvent } from './event.js';
import type { Logsource } from './sigma-rule.js';

/**
 * The data-driven log-source mapping (config/logsources.yml): which events a Sigma log source covers
 * (conditions on event fields, `Channel` and `EventID` being indexed) and how Sigma field names are
 * renamed for those events.
 */
export interface LogsourceEntry {
  readonly name: string;
  readonly logsource: Logsource;
  /** Field -> accepted values (compared case-insensitively as text). */
  readonly conditions: Readonly<Record<string, readonly string[]>>;
  /** Sigma field -> event field. */
  readonly fields: Readonly<Record<string, string>>;
}

export interface LogsourceMapping {
  readonly entries: readonly LogsourceEntry[];
  /** Renames applied to every rule of a product (e.g. none for windows), before entry renames. */
  readonly productFields: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Values for `expand` placeholders. */
  readonly placeholders: Readonly<Record<string, readonly string[]>>;
}

export const EMPTY_MAPPING: LogsourceMapping = { entries: [], productFields: {}, placeholders: {} };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringMap(value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObj(value)) return invalid(path, 'must be a map of strings');
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/** Validates a decoded mapping document. Pure; throws SigmaRuleError naming the bad entry. */
export function parseLogsourceMapping(doc: unknown): LogsourceMapping {
  if (!isObj(doc)) return invalid('', 'the log-source mapping must be a map');
  const list = doc['logsources'];
  if (!Array.isArray(list)) return invalid('logsources', 'must be a list');
  const entries = list.map((raw, i): LogsourceEntry => {
    const path = `logsources[${i}]`;
    if (!isObj(raw)) return invalid(path, 'must be a map');
    const ls = raw['logsource'];
    if (!isObj(ls)) return invalid(`${path}.logsource`, 'is required');
    const logsource: { -readonly [K in keyof Logsource]: string } = {};
    for (const key of ['product', 'category', 'service'] as const)
      if (typeof ls[key] === 'string') logsource[key] = ls[key];
    const conditions: Record<string, string[]> = {};
    const cond = raw['conditions'];
    if (cond !== undefined && cond !== null) {
      if (!isObj(cond)) return invalid(`${path}.conditions`, 'must be a map');
      for (const [field, v] of Object.entries(cond)) {
        conditions[field] = (Array.isArray(v) ? v : [v]).map((x) => String(x));
      }
    }
    return {
      name:
        typeof raw['name'] === 'string'
          ? raw['name']
          : `${logsource.product ?? '*'}/${logsource.category ?? logsource.service ?? '*'}#${i}`,
      logsource,
      conditions,
      fields: stringMap(raw['fields'], `${path}.fields`),
    };
  });
  const productFields: Record<string, Record<string, string>> = {};
  const pf = doc['product_fields'];
  if (isObj(pf))
    for (const [product, map] of Object.entries(pf))
      productFields[product] = stringMap(map, `product_fields.${product}`);
  const placeholders: Record<string, string[]> = {};
  const ph = doc['placeholders'];
  if (isObj(ph))
    for (const [name, values] of Object.entries(ph))
      placeholders[name] = (Array.isArray(values) ? values : [values]).map(String);
  return { entries, productFields, placeholders };
}

/** Parses the mapping from YAML text. Pure. */
export function parseLogsourceMappingYaml(text: string): LogsourceMapping {
  return parseLogsourceMapping(parse(text));
}

/**
 * The entries that cover a rule's log source. A rule with a category takes the entries of that category;
 * one with only a service takes the service entries; products must agree when both name one. An empty
 * result means the log source is not mapped (the rule then runs on every event of its product).
 */
export function entriesFor(logsource: Logsource, mapping: LogsourceMapping): LogsourceEntry[] {
  const compatible = (e: LogsourceEntry): boolean =>
    e.logsource.product === undefined ||
    logsource.product === undefined ||
    e.logsource.product === logsource.product;
  if (logsource.category !== undefined) {
    return mapping.entries.filter((e) => e.logsource.category === logsource.category && compatible(e));
  }
  if (logsource.service !== undefined) {
    return mapping.entries.filter(
      (e) => e.logsource.category === undefined && e.logsource.service === logsource.service && compatible(e),
    );
  }
  return [];
}

/** A test for an entry's non-indexed conditions (all but Channel and EventID), or null if none. */
export function extraConditionTest(entry: LogsourceEntry): ((ev: PreparedEvent) => boolean) | null {
  const checks = Object.entries(entry.conditions)
    .filter(([field]) => field !== 'Channel' && field !== 'EventID')
    .map(([field, values]) => {
      const wanted = new Set(values.map((v) => v.toLowerCase()));
      return (ev: PreparedEvent): boolean => {
        const value = ev.lower(field);
        return value !== null && wanted.has(value);
      };
    });
  if (checks.length === 0) return null;
  return (ev) => checks.every((c) => c(ev));
}
