import { parseAllDocuments } from 'yaml';
import { parseCondition, type ConditionNode } from './condition.js';
import { parseAnomalySpec, type AnomalySpec } from './anomaly.js';
import { invalid, unsupported } from './errors.js';
import { parseTimespan } from './timespan.js';

export { parseTimespan };

/**
 * The three kinds of Sigma documents (specification v2.1): detection rules, correlation rules and
 * filters (meta rules). Parsing validates the document shape; compiling (sigma-compiler.ts) checks
 * modifiers and values.
 */
export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Level = (typeof LEVELS)[number];
export const STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'] as const;

export interface Logsource {
  readonly product?: string;
  readonly category?: string;
  readonly service?: string;
  readonly definition?: string;
}

interface Common {
  readonly id?: string;
  readonly name?: string;
  readonly title: string;
  readonly level?: Level;
  readonly status?: string;
  readonly description?: string;
  readonly author?: string;
  readonly tags: readonly string[];
  readonly references: readonly string[];
  readonly falsepositives: readonly string[];
  readonly date?: string;
  readonly modified?: string;
  readonly taxonomy?: string;
}

export interface SigmaDetectionRule extends Common {
  readonly kind: 'rule';
  readonly logsource: Logsource;
  /** Search identifiers, as written (validated when compiled). */
  readonly detection: Readonly<Record<string, unknown>>;
  /** One or more conditions (a list is the deprecated OR form). */
  readonly conditions: readonly ConditionNode[];
  readonly fields: readonly string[];
}

export const CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_min',
  'value_max',
  'value_median',
  'value_percentile',
] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export interface CorrelationCondition {
  readonly field?: string;
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
  readonly eq?: number;
  readonly neq?: number;
  /** value_percentile: which percentile of the field's values (default 50). */
  readonly percentile?: number;
}

export interface SigmaCorrelationRule extends Common {
  readonly kind: 'correlation';
  readonly type: CorrelationType;
  /** Referenced rules, by id or name. */
  readonly rules: readonly string[];
  readonly groupBy: readonly string[];
  readonly timespanMs: number;
  readonly condition: CorrelationCondition;
  /** alias -> (rule id or name -> field). */
  readonly aliases: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly generate: boolean;
}

export interface SigmaFilterRule extends Common {
  readonly kind: 'filter';
  readonly logsource: Logsource;
  readonly rules: readonly string[];
  readonly detection: Readonly<Record<string, unknown>>;
  readonly conditions: readonly ConditionNode[];
}

/** Firebreak's anomaly rule: a Sigma-style rule whose matches feed a per-entity baseline (anomaly.ts). */
export interface SigmaAnomalyRule extends Common {
  readonly kind: 'anomaly';
  readonly logsource: Logsource;
  /** The selection of events that feed the metric; empty means every event of the log source. */
  readonly detection: Readonly<Record<string, unknown>>;
  readonly conditions: readonly ConditionNode[];
  readonly anomaly: AnomalySpec;
}

export type SigmaDocument = SigmaDetectionRule | SigmaCorrelationRule | SigmaFilterRule | SigmaAnomalyRule;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function optString(doc: Obj, key: string): string | undefined {
  const v = doc[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || v instanceof Date)
    return v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
  return invalid(key, `must be a string, got ${typeof v}`);
}

function stringList(doc: Obj, key: string): string[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v))
    return v.map((x, i) =>
      typeof x === 'string' ? x : x === null ? invalid(`${key}[${i}]`, 'must not be null') : String(x),
    );
  return invalid(key, 'must be a list of strings');
}

function common(doc: Obj): Common {
  const title = doc['title'];
  if (typeof title !== 'string' || title.trim() === '')
    invalid('title', 'is required and must be a non-empty string');
  const level = optString(doc, 'level');
  if (level !== undefined && !(LEVELS as readonly string[]).includes(level)) {
    invalid('level', `must be one of ${LEVELS.join(', ')}; got "${level}"`);
  }
  const status = optString(doc, 'status');
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
    invalid('status', `must be one of ${STATUSES.join(', ')}; got "${status}"`);
  }
  const author = doc['author'];
  return {
    id: optString(doc, 'id'),
    name: optString(doc, 'name'),
    title,
    level: level as Level | undefined,
    status,
    description: optString(doc, 'description'),
    author: Array.isArray(author) ? author.join(', ') : optString(doc, 'author'),
    tags: stringList(doc, 'tags'),
    references: stringList(doc, 'references'),
    falsepositives: stringList(doc, 'falsepositives'),
    date: optString(doc, 'date'),
    modified: optString(doc, 'modified'),
    taxonomy: optString(doc, 'taxonomy'),
  };
}

function logsourceOf(doc: Obj): Logsource {
  const ls = doc['logsource'];
  if (!isObj(ls)) return invalid('logsource', 'is required and must be a map');
  const out: { -readonly [K in keyof Logsource]: string } = {};
  for (const key of ['product', 'category', 'service', 'definition'] as const) {
    const v = ls[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') invalid(`logsource.${key}`, 'must be a string');
    out[key] = v;
  }
  if (out.product === undefined && out.category === undefined && out.service === undefined) {
    invalid('logsource', 'needs at least one of product, category, service');
  }
  return out;
}

function detectionOf(detection: unknown, where: string): { ids: Obj; conditions: ConditionNode[] } {
  if (!isObj(detection)) return invalid(where, 'is required and must be a map');
  const { condition, timeframe, ...ids } = detection;
  if (timeframe !== undefined) {
    unsupported(
      `${where}.timeframe`,
      'timeframe',
      'detection timeframes belong to deprecated aggregations; use a correlation rule',
    );
  }
  if (Object.keys(ids).length === 0) invalid(where, 'needs at least one search identifier');
  const texts = Array.isArray(condition) ? condition : [condition];
  if (condition === undefined || texts.length === 0) invalid(`${where}.condition`, 'is required');
  const conditions = texts.map((c, i) => {
    const path = Array.isArray(condition) ? `${where}.condition[${i}]` : `${where}.condition`;
    if (typeof c !== 'string') return invalid(path, 'must be a string');
    return parseCondition(c, path);
  });
  return { ids, conditions };
}

function correlationOf(doc: Obj, base: Common): SigmaCorrelationRule {
  const c = doc['correlation'];
  if (!isObj(c)) return invalid('correlation', 'must be a map');
  const type = c['type'];
  if (typeof type !== 'string' || !(CORRELATION_TYPES as readonly string[]).includes(type)) {
    return unsupported(
      'correlation.type',
      `correlation type ${String(type)}`,
      `must be one of ${CORRELATION_TYPES.join(', ')}`,
    );
  }
  const rules = stringList(c, 'rules');
  if (rules.length === 0) invalid('correlation.rules', 'must name at least one rule');
  const groupBy = stringList(c, 'group-by');
  const timespan = c['timespan'] ?? c['timeframe'];
  const timespanMs = parseTimespan(timespan, 'correlation.timespan');
  const conditionRaw = c['condition'];
  const condition: Record<string, number | string> = {};
  const temporal = type === 'temporal' || type === 'temporal_ordered';
  if (conditionRaw === undefined || conditionRaw === null) {
    if (!temporal) invalid('correlation.condition', `is required for ${type}`);
  } else {
    if (!isObj(conditionRaw)) return invalid('correlation.condition', 'must be a map like {gte: 10}');
    let comparisons = 0;
    for (const [key, v] of Object.entries(conditionRaw)) {
      if (key === 'field') {
        if (typeof v !== 'string') invalid('correlation.condition.field', 'must be a string');
        condition.field = v as string;
      } else if (['gt', 'gte', 'lt', 'lte', 'eq', 'neq', 'percentile'].includes(key)) {
        const n = typeof v === 'number' ? v : Number(v);
        if (!Number.isFinite(n)) invalid(`correlation.condition.${key}`, 'must be a number');
        condition[key] = n;
        if (key !== 'percentile') comparisons++;
      } else {
        invalid(`correlation.condition.${key}`, 'unknown condition operator (gt, gte, lt, lte, eq, neq)');
      }
    }
    if (comparisons === 0) invalid('correlation.condition', 'needs one of gt, gte, lt, lte, eq, neq');
  }
  const needsField = type !== 'event_count' && !temporal;
  if (needsField && condition.field === undefined)
    invalid('correlation.condition.field', `is required for ${type}`);
  const aliases: Record<string, Record<string, string>> = {};
  const aliasRaw = c['aliases'];
  if (aliasRaw !== undefined && aliasRaw !== null) {
    if (!isObj(aliasRaw)) return invalid('correlation.aliases', 'must be a map');
    for (const [alias, mapping] of Object.entries(aliasRaw)) {
      if (!isObj(mapping)) invalid(`correlation.aliases.${alias}`, 'must map rule names to field names');
      aliases[alias] = Object.fromEntries(Object.entries(mapping as Obj).map(([k, v]) => [k, String(v)]));
    }
  }
  const generate = c['generate'] ?? doc['generate'];
  return {
    ...base,
    kind: 'correlation',
    type: type as CorrelationType,
    rules,
    groupBy,
    timespanMs,
    condition: condition as CorrelationCondition,
    aliases,
    generate: generate === true,
  };
}

/** Parses one YAML-decoded Sigma document. Pure; throws SigmaRuleError naming the offending field. */
export function parseSigmaDocument(doc: unknown): SigmaDocument {
  if (!isObj(doc)) return invalid('', 'a Sigma document must be a YAML map');
  const base = common(doc);
  if (doc['correlation'] !== undefined) return correlationOf(doc, base);
  if (doc['anomaly'] !== undefined) {
    const anomaly = parseAnomalySpec(doc['anomaly']);
    const parsed =
      doc['detection'] === undefined
        ? { ids: {}, conditions: [] }
        : detectionOf(doc['detection'], 'detection');
    return {
      ...base,
      kind: 'anomaly',
      logsource: logsourceOf(doc),
      detection: parsed.ids,
      conditions: parsed.conditions,
      anomaly,
    };
  }
  if (doc['filter'] !== undefined) {
    const f = doc['filter'];
    if (!isObj(f)) return invalid('filter', 'must be a map');
    const rules = stringList(f, 'rules');
    const { ids, conditions } = detectionOf(f, 'filter');
    delete ids['rules'];
    return { ...base, kind: 'filter', logsource: logsourceOf(doc), rules, detection: ids, conditions };
  }
  if (doc['action'] !== undefined && doc['detection'] === undefined) {
    return unsupported(
      'action',
      'action documents',
      `multi-document "action: ${String(doc['action'])}" collections are Sigma v1 and not supported`,
    );
  }
  const { ids, conditions } = detectionOf(doc['detection'], 'detection');
  return {
    ...base,
    kind: 'rule',
    logsource: logsourceOf(doc),
    detection: ids,
    conditions,
    fields: stringList(doc, 'fields'),
  };
}

/** Parses a YAML text holding one or more Sigma documents. Pure; throws SigmaRuleError on YAML errors. */
export function parseSigmaYaml(text: string): SigmaDocument[] {
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: SigmaDocument[] = [];
  for (const d of list) {
    if (d.errors.length > 0) invalid('', `YAML: ${d.errors[0]!.message.split('\n')[0]}`);
    const value: unknown = d.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    out.push(parseSigmaDocument(value));
  }
  if (out.length === 0) invalid('', 'the file holds no Sigma document');
  return out;
}
