import { SigmaRuleError, invalid } from './errors.js';
import type { PreparedEvent } from './event.js';
import { entriesFor, extraConditionTest, type LogsourceMapping } from './logsource.js';
import type { AnomalySpec } from './anomaly.js';
import { ALWAYS, compileDetection, type Need, type Predicate } from './sigma-compiler.js';
import type {
  Level,
  SigmaAnomalyRule,
  SigmaCorrelationRule,
  SigmaDetectionRule,
  SigmaDocument,
  SigmaFilterRule,
} from './sigma-rule.js';

/** What outputs name about a rule. */
export interface RuleInfo {
  readonly id: string;
  readonly name?: string;
  readonly title: string;
  readonly level: Level;
  readonly file?: string;
  readonly tags: readonly string[];
  readonly author?: string;
}

/** Where a variant runs: indexed on Windows channel and event id, or on every event of a product. */
export interface Dispatch {
  readonly channels: readonly string[] | null;
  readonly eventIds: readonly string[] | null;
  readonly product: string | null;
}

/** One rule compiled for one log-source entry (with that entry's field renames). */
export interface RuleVariant {
  readonly rule: CompiledRule;
  readonly dispatch: Dispatch;
  readonly test: Predicate;
  readonly need: Need;
  /** The field renames the variant was compiled with (filters reuse them). */
  readonly fieldMap: Readonly<Record<string, string>>;
}

export interface CompiledRule {
  readonly info: RuleInfo;
  readonly source: SigmaDetectionRule | SigmaAnomalyRule;
  readonly variants: readonly RuleVariant[];
  /** True when no mapping entry covers the rule's log source (it runs on every event of its product). */
  readonly unmapped: boolean;
  /** False when a correlation refers to the rule and does not ask to generate its matches. */
  emit: boolean;
  /** Set for anomaly rules: the rule's matches feed this baseline instead of being reported. */
  readonly anomaly?: AnomalySpec;
}

export interface CompileRuleOptions {
  readonly file?: string;
  readonly placeholders?: Readonly<Record<string, readonly string[]>>;
}

function infoOf(doc: SigmaDocument, file: string | undefined, fallbackId: string): RuleInfo {
  return {
    id: doc.id ?? fallbackId,
    name: doc.name,
    title: doc.title,
    level: doc.level ?? 'medium',
    file,
    tags: doc.tags,
    author: doc.author,
  };
}

/**
 * Compiles a detection rule into one variant per mapped log-source entry. Pure; throws SigmaRuleError
 * naming the rule's field.
 */
export function compileRule(
  doc: SigmaDetectionRule | SigmaAnomalyRule,
  mapping: LogsourceMapping,
  options: CompileRuleOptions = {},
): CompiledRule {
  const placeholders = { ...mapping.placeholders, ...options.placeholders };
  const productFields =
    doc.logsource.product === undefined ? {} : (mapping.productFields[doc.logsource.product] ?? {});
  const entries = entriesFor(doc.logsource, mapping);
  const rule: { -readonly [K in keyof CompiledRule]: CompiledRule[K] } = {
    info: infoOf(doc, options.file, options.file ?? doc.title),
    source: doc,
    variants: [],
    unmapped: entries.length === 0,
    emit: doc.kind === 'rule',
    anomaly: doc.kind === 'anomaly' ? doc.anomaly : undefined,
  };
  const everything = Object.keys(doc.detection).length === 0;
  const compileBody = (fieldMap: Record<string, string>) =>
    everything ? ALWAYS : compileDetection(doc.detection, doc.conditions, { fieldMap, placeholders });
  const variants: RuleVariant[] = [];
  if (entries.length === 0) {
    const compiled = compileBody(productFields);
    variants.push({
      rule,
      dispatch: { channels: null, eventIds: null, product: doc.logsource.product ?? null },
      test: compiled.test,
      need: compiled.need,
      fieldMap: productFields,
    });
  } else {
    // Compile once per distinct field mapping.
    const cache = new Map<string, ReturnType<typeof compileDetection>>();
    for (const entry of entries) {
      const fieldMap = { ...productFields, ...entry.fields };
      const key = JSON.stringify(fieldMap);
      let compiled = cache.get(key);
      if (compiled === undefined) {
        compiled = compileBody(fieldMap);
        cache.set(key, compiled);
      }
      const extra = extraConditionTest(entry);
      const base = compiled.test;
      const test: Predicate = extra === null ? base : (ev: PreparedEvent) => extra(ev) && base(ev);
      const channels = entry.conditions['Channel']?.map((c) => c.toLowerCase()) ?? null;
      const eventIds = entry.conditions['EventID'] ?? null;
      variants.push({
        rule,
        dispatch: { channels, eventIds, product: entry.logsource.product ?? doc.logsource.product ?? null },
        test,
        need: compiled.need,
        fieldMap,
      });
    }
  }
  rule.variants = variants;
  return rule;
}

export interface CompiledFilter {
  readonly info: RuleInfo;
  readonly source: SigmaFilterRule;
}

export interface RuleFailure {
  readonly file: string;
  readonly reason: string;
  readonly code: string;
  readonly feature?: string;
}

/** A set of compiled rules, filters and correlations ready for the engine. */
export interface RuleSet {
  readonly rules: readonly CompiledRule[];
  readonly correlations: readonly SigmaCorrelationRuleWithInfo[];
  readonly filters: readonly CompiledFilter[];
  /**
   * What `buildRuleSet` built the set from: plain data, so another thread can build the same set (same
   * rules in the same order) from a structured clone of it. Compiled predicates cannot cross threads.
   */
  readonly origin?: RuleSetOrigin;
}

/** The inputs of `buildRuleSet`. */
export interface RuleSetOrigin {
  readonly documents: readonly SourceDocument[];
  readonly mapping: LogsourceMapping;
  readonly placeholders?: Readonly<Record<string, readonly string[]>>;
}

export interface SigmaCorrelationRuleWithInfo {
  readonly info: RuleInfo;
  readonly source: SigmaCorrelationRule;
}

export interface SourceDocument {
  readonly doc: SigmaDocument;
  readonly file: string;
}

/**
 * Compiles documents into a rule set: detection rules, then filters applied to the rules they name,
 * then correlations checked against the rules they reference. Documents that cannot run are reported
 * in `failures` (with the file and the reason) and left out. Pure.
 */
export function buildRuleSet(
  documents: readonly SourceDocument[],
  mapping: LogsourceMapping,
  options: { placeholders?: Readonly<Record<string, readonly string[]>> } = {},
): { set: RuleSet; failures: RuleFailure[] } {
  const failures: RuleFailure[] = [];
  const fail = (file: string, error: unknown): void => {
    if (error instanceof SigmaRuleError) {
      failures.push({ file, reason: error.message, code: error.code, feature: error.feature });
    } else {
      failures.push({ file, reason: (error as Error).message, code: 'internal_error' });
    }
  };
  const rules: CompiledRule[] = [];
  const filters: CompiledFilter[] = [];
  const correlations: SigmaCorrelationRuleWithInfo[] = [];
  for (const { doc, file } of documents) {
    try {
      if (doc.kind === 'rule' || doc.kind === 'anomaly')
        rules.push(compileRule(doc, mapping, { file, placeholders: options.placeholders }));
      else if (doc.kind === 'filter') filters.push({ info: infoOf(doc, file, file), source: doc });
      else correlations.push({ info: infoOf(doc, file, file), source: doc });
    } catch (error) {
      fail(file, error);
    }
  }
  const byRef = new Map<string, CompiledRule>();
  for (const r of rules) {
    if (r.source.id !== undefined) byRef.set(r.source.id, r);
    if (r.source.name !== undefined) byRef.set(r.source.name, r);
  }
  // Filters: each named rule's variants also require "not filter" (compiled with the variant's renames).
  const kept: CompiledRule[] = [...rules];
  for (const f of filters) {
    try {
      const targets =
        f.source.rules.length === 0
          ? rules.filter((r) => sameLogsource(r.source, f.source))
          : f.source.rules.map((ref) => {
              const r = byRef.get(ref);
              if (r === undefined) return invalid('filter.rules', `refers to unknown rule "${ref}"`);
              return r;
            });
      for (const target of targets) applyFilter(target, f.source, mapping, options.placeholders);
    } catch (error) {
      fail(f.info.file ?? f.info.id, error);
    }
  }
  const validCorrelations: SigmaCorrelationRuleWithInfo[] = [];
  const correlationRefs = new Set<string>();
  for (const c of correlations) {
    if (c.source.id !== undefined) correlationRefs.add(c.source.id);
    if (c.source.name !== undefined) correlationRefs.add(c.source.name);
  }
  for (const c of correlations) {
    const missing = c.source.rules.filter((ref) => !byRef.has(ref) && !correlationRefs.has(ref));
    if (missing.length > 0) {
      failures.push({
        file: c.info.file ?? c.info.id,
        reason: `correlation.rules: refers to unknown rule(s) ${missing.join(', ')}`,
        code: 'sigma_rule_invalid',
      });
      continue;
    }
    validCorrelations.push(c);
    if (!c.source.generate)
      for (const ref of c.source.rules) {
        const r = byRef.get(ref);
        if (r) r.emit = false;
      }
  }
  const origin: RuleSetOrigin = { documents, mapping, placeholders: options.placeholders };
  return { set: { rules: kept, correlations: validCorrelations, filters, origin }, failures };
}

function sameLogsource(rule: SigmaDetectionRule | SigmaAnomalyRule, filter: SigmaFilterRule): boolean {
  const a = rule.logsource;
  const b = filter.logsource;
  return a.product === b.product && a.category === b.category && a.service === b.service;
}

function applyFilter(
  target: CompiledRule,
  filter: SigmaFilterRule,
  mapping: LogsourceMapping,
  placeholders?: Readonly<Record<string, readonly string[]>>,
): void {
  const variants = target.variants.map((variant) => {
    const compiled = compileDetection(
      filter.detection,
      filter.conditions,
      { fieldMap: variant.fieldMap, placeholders: { ...mapping.placeholders, ...placeholders } },
      'filter',
    );
    const base = variant.test;
    const exclude = compiled.test;
    return { ...variant, test: (ev: PreparedEvent) => base(ev) && !exclude(ev) };
  });
  (target as { variants: readonly RuleVariant[] }).variants = variants;
}
