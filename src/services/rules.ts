import { parseAllDocuments } from 'yaml';
import { assertCan, type Actor } from '../core/actor.js';
import { NotFoundError, UserError } from '../core/errors.js';
import type { Page } from '../core/model.js';
import type { Severity } from '../core/vocabulary.js';
import { Detector } from '../detection/detector.js';
import { SigmaRuleError } from '../detection/errors.js';
import { prepareEvent } from '../detection/event.js';
import type { LogsourceMapping } from '../detection/logsource.js';
import {
  buildRuleSet,
  compileRule,
  type RuleFailure,
  type RuleSet,
  type SourceDocument,
} from '../detection/rule-set.js';
import { compileDetection } from '../detection/sigma-compiler.js';
import {
  parseSigmaDocument,
  parseSigmaYaml,
  type Level,
  type SigmaDocument,
} from '../detection/sigma-rule.js';
import { loadMapping } from '../hunt/rule-loader.js';
import {
  deleteRule as deleteRuleRow,
  findRule,
  findRules,
  insertRule,
  insertRuleVersion,
  listEnabledRules,
  listRuleRefs,
  listRuleVersions,
  listRules as listRuleRows,
  ruleStats,
  saveRule,
  type RuleKind,
  type RuleListQuery,
  type RuleVersion,
  type RuleWithStats,
  type StoredRule,
} from '../storage/rule-repository.js';
import { inTransaction, type DomainEvent, type ServiceContext } from './context.js';
import { listPlaceholders } from './detection-lists.js';
import { describeDetection, type DescribedDetection } from './detections.js';
import {
  DEFAULT_ARCHIVE_LIMITS,
  readRuleArchive,
  type ArchiveLimits,
  type RuleSource,
} from './rule-archive.js';

export type { RuleSource } from './rule-archive.js';

/**
 * Detection rules stored per organisation, versioned: each YAML document is one rule, keyed by its
 * Sigma `id` (or a generated UUID). Saving a changed document bumps the version and keeps the earlier
 * ones; saving identical content changes nothing. Every document is compiled with the same compiler
 * `firebreak hunt` uses before it is stored, so a rule the engine cannot run is refused with its reason.
 *
 * Who may do what: anyone of the organisation reads; responders and admins write (`write`
 * permission): rules are detection engineering, part of responding. Every write is audited.
 */

/** What happened to one document of a submission. */
export interface RuleDocumentResult {
  /** The file or zip entry the document came from; null for a request body. */
  readonly file: string | null;
  /** 1-based position of the document in its file. */
  readonly document: number;
  readonly status: 'created' | 'updated' | 'unchanged' | 'failed';
  readonly id: string | null;
  readonly title: string | null;
  readonly kind: RuleKind | null;
  readonly version: number | null;
  readonly error: { readonly code: string; readonly message: string; readonly field: string | null } | null;
}

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const MAX_DOCUMENTS = 20_000;

let shippedMapping: Promise<LogsourceMapping> | undefined;

/** The shipped log-source mapping (config/logsources.yml), read once per process. */
export function ruleMapping(): Promise<LogsourceMapping> {
  shippedMapping ??= loadMapping().catch((error: unknown) => {
    shippedMapping = undefined;
    throw error;
  });
  return shippedMapping;
}

export function kindOf(doc: SigmaDocument): RuleKind {
  return doc.kind === 'rule' ? 'sigma' : doc.kind;
}

/** Sigma's levels to Firebreak's severities (informational is info). Pure. */
export function severityOfLevel(level: Level): Severity {
  return level === 'informational' ? 'info' : level;
}

interface SplitDocument {
  readonly index: number;
  readonly text: string;
  readonly value?: unknown;
  readonly error?: string;
}

/**
 * Splits a YAML text into its documents, each with its own source text (comments before it
 * included, the `---` and `...` markers left out) so each can be stored and versioned on its own.
 */
function splitDocuments(text: string): SplitDocument[] {
  const out: SplitDocument[] = [];
  const source = text.replace(/\r\n?/g, '\n');
  const docs = parseAllDocuments(source, { uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  let from = 0;
  let index = 0;
  for (const doc of list) {
    const to = doc.range[2];
    const slice = withoutMarkers(source.slice(from, to));
    from = to;
    if (doc.errors.length > 0) {
      index++;
      out.push({ index, text: slice, error: `YAML: ${doc.errors[0]!.message.split('\n')[0]}` });
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    index++;
    out.push({ index, text: `${slice}\n`, value });
  }
  return out;
}

/** A document's text without its `---` start marker and `...` end marker (comments kept). */
function withoutMarkers(slice: string): string {
  const lines = slice.split('\n');
  const first = lines.findIndex((line) => {
    const t = line.trim();
    return t !== '' && !t.startsWith('#');
  });
  if (first >= 0 && /^---(\s|$)/.test(lines[first]!)) lines[first] = lines[first]!.slice(3).trim();
  while (lines.length > 0 && /^(\.\.\.)?\s*$/.test(lines.at(-1)!)) lines.pop();
  return lines.join('\n').trim();
}

interface Prepared {
  readonly file: string | null;
  readonly document: number;
  readonly doc: SigmaDocument;
  readonly id: string;
  readonly text: string;
  readonly hash: string;
}

function failure(
  file: string | null,
  document: number,
  error: unknown,
  known: Partial<Pick<RuleDocumentResult, 'id' | 'title' | 'kind'>> = {},
): RuleDocumentResult {
  const field =
    error instanceof SigmaRuleError
      ? error.path || null
      : error instanceof UserError && typeof error.details.field === 'string'
        ? error.details.field
        : null;
  return {
    file,
    document,
    status: 'failed',
    id: known.id ?? null,
    title: known.title ?? null,
    kind: known.kind ?? null,
    version: null,
    error: {
      code: error instanceof UserError ? error.code : 'internal_error',
      message: (error as Error).message,
      field,
    },
  };
}

/** Parses and compiles one document. Pure apart from the id it may generate; throws SigmaRuleError/UserError. */
function checkDocument(value: unknown, mapping: LogsourceMapping): SigmaDocument {
  const doc = parseSigmaDocument(value);
  if (doc.id !== undefined && !RULE_ID.test(doc.id)) {
    throw new UserError('invalid_rule_id', 'id: letters, digits and . _ : - only, at most 200 characters', {
      field: 'id',
    });
  }
  if (doc.kind === 'rule' || doc.kind === 'anomaly') compileRule(doc, mapping);
  else if (doc.kind === 'filter')
    compileDetection(doc.detection, doc.conditions, { placeholders: mapping.placeholders }, 'filter');
  return doc;
}

function prepareSources(
  context: ServiceContext,
  sources: readonly RuleSource[],
  mapping: LogsourceMapping,
): { prepared: Prepared[]; failed: RuleDocumentResult[] } {
  const prepared: Prepared[] = [];
  const failed: RuleDocumentResult[] = [];
  let count = 0;
  for (const source of sources) {
    let documents: SplitDocument[];
    try {
      documents = splitDocuments(source.text);
    } catch (error) {
      failed.push(
        failure(source.file, 1, new UserError('invalid_yaml', `YAML: ${(error as Error).message}`)),
      );
      continue;
    }
    if (documents.length === 0) {
      failed.push(failure(source.file, 1, new UserError('no_document', 'the text holds no YAML document')));
    }
    for (const d of documents) {
      if (++count > MAX_DOCUMENTS) {
        throw new UserError('too_many_documents', `at most ${MAX_DOCUMENTS} documents per submission`);
      }
      if (d.error !== undefined) {
        failed.push(failure(source.file, d.index, new UserError('invalid_yaml', d.error)));
        continue;
      }
      const title = isRecord(d.value) && typeof d.value['title'] === 'string' ? d.value['title'] : undefined;
      try {
        const doc = checkDocument(d.value, mapping);
        prepared.push({
          file: source.file,
          document: d.index,
          doc,
          id: doc.id ?? context.newId(),
          text: d.text,
          hash: context.sha256(d.text),
        });
      } catch (error) {
        failed.push(failure(source.file, d.index, error, { title }));
      }
    }
  }
  return { prepared, failed };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Stores the documents of the sources: new ids are created (version 1), changed ones get the next
 * version, identical ones are left alone. Documents that do not parse or compile, that refer to rules
 * the organisation does not have, or repeat an id of the same submission are refused, each with the
 * field at fault; the others are stored in one transaction. Audits `rule.created` / `rule.versioned`.
 */
export async function saveRuleSources(
  context: ServiceContext,
  actor: Actor,
  sources: readonly RuleSource[],
): Promise<RuleDocumentResult[]> {
  assertCan(actor, 'write');
  const mapping = await ruleMapping();
  const { prepared, failed } = prepareSources(context, sources, mapping);
  const stored = await inTransaction(context, async (unit) => {
    const results: RuleDocumentResult[] = [];
    const refs = await listRuleRefs(unit.tx, actor.orgId);
    for (const p of prepared) {
      refs.add(p.id);
      if (p.doc.name !== undefined) refs.add(p.doc.name);
    }
    const existing = new Map(
      (await findRules(unit.tx, actor.orgId, [...new Set(prepared.map((p) => p.id))])).map((r) => [r.id, r]),
    );
    const seen = new Set<string>();
    for (const p of prepared) {
      const known = { id: p.id, title: p.doc.title, kind: kindOf(p.doc) };
      if (seen.has(p.id)) {
        results.push(
          failure(
            p.file,
            p.document,
            new UserError('duplicate_rule_id', `id ${p.id} appears earlier in this submission`, {
              field: 'id',
            }),
            known,
          ),
        );
        continue;
      }
      seen.add(p.id);
      if (p.doc.kind === 'correlation' || p.doc.kind === 'filter') {
        const missing = p.doc.rules.filter((ref) => !refs.has(ref));
        if (missing.length > 0) {
          results.push(
            failure(
              p.file,
              p.document,
              new UserError(
                'unknown_rule_reference',
                `${p.doc.kind}.rules: refers to unknown rule(s) ${missing.join(', ')}`,
                {
                  field: `${p.doc.kind}.rules`,
                },
              ),
              known,
            ),
          );
          continue;
        }
      }
      const before = existing.get(p.id);
      if (before && before.contentHash === p.hash) {
        results.push({ ...base(p), status: 'unchanged', version: before.version });
        continue;
      }
      const rule: StoredRule = {
        orgId: actor.orgId,
        id: p.id,
        kind: kindOf(p.doc),
        name: p.doc.name ?? null,
        title: p.doc.title,
        level: p.doc.level ?? 'medium',
        levelOverride: before?.levelOverride ?? null,
        enabled: before?.enabled ?? true,
        yaml: p.text,
        version: (before?.version ?? 0) + 1,
        contentHash: p.hash,
        updatedBy: actor.name,
        createdAt: before?.createdAt ?? unit.now,
        updatedAt: unit.now,
      };
      if (before) await saveRule(unit.tx, rule);
      else await insertRule(unit.tx, rule);
      await insertRuleVersion(unit.tx, rule);
      existing.set(rule.id, rule);
      await unit.audit({
        actor,
        action: before ? 'rule.versioned' : 'rule.created',
        targetType: 'rule',
        targetId: rule.id,
        changes: {
          version: before ? { from: before.version, to: rule.version } : rule.version,
          kind: rule.kind,
          title: before && before.title !== rule.title ? { from: before.title, to: rule.title } : rule.title,
          level: rule.level,
          content_hash: rule.contentHash,
          ...(p.file !== null ? { file: p.file } : {}),
        },
      });
      results.push({ ...base(p), status: before ? 'updated' : 'created', version: rule.version });
    }
    return results;
  });
  return [...stored, ...failed].sort(
    (a, b) => (a.file ?? '').localeCompare(b.file ?? '') || a.document - b.document,
  );
}

function base(p: Prepared): RuleDocumentResult {
  return {
    file: p.file,
    document: p.document,
    status: 'created',
    id: p.id,
    title: p.doc.title,
    kind: kindOf(p.doc),
    version: null,
    error: null,
  };
}

/** Stores the rule files of a zip archive (see readRuleArchive for the limits). */
export async function importRuleArchive(
  context: ServiceContext,
  actor: Actor,
  zip: Buffer,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<RuleDocumentResult[]> {
  assertCan(actor, 'write');
  const sources = await readRuleArchive(zip, limits);
  if (sources.length === 0) throw new UserError('archive_empty', 'the archive holds no .yml or .yaml file');
  return saveRuleSources(context, actor, sources);
}

export async function requireRule(context: ServiceContext, actor: Actor, id: string): Promise<StoredRule> {
  const rule = await findRule(context.database.db, actor.orgId, id);
  if (!rule) throw new NotFoundError('rule', id);
  return rule;
}

export async function listRules(
  context: ServiceContext,
  actor: Actor,
  query: Omit<RuleListQuery, 'orgId'>,
): Promise<Page<RuleWithStats>> {
  assertCan(actor, 'read');
  return listRuleRows(context.database.db, context.database.dialect, { ...query, orgId: actor.orgId });
}

/** One rule with its statistics and every version (newest first). */
export async function getRule(
  context: ServiceContext,
  actor: Actor,
  id: string,
): Promise<{ rule: RuleWithStats; versions: RuleVersion[] }> {
  assertCan(actor, 'read');
  const rule = await requireRule(context, actor, id);
  const stats = await ruleStats(context.database.db, context.database.dialect, actor.orgId, [id]);
  const versions = await listRuleVersions(context.database.db, actor.orgId, id);
  return { rule: { ...rule, stats: stats.get(id)! }, versions };
}

export interface RuleSettings {
  readonly enabled?: boolean | undefined;
  /** A level to run the rule at instead of its own; null removes the override. */
  readonly levelOverride?: Level | null | undefined;
}

/** Enables, disables or re-levels a rule; audits `rule.updated` with before and after. */
export async function updateRuleSettings(
  context: ServiceContext,
  actor: Actor,
  id: string,
  settings: RuleSettings,
): Promise<StoredRule> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    const current = await findRule(unit.tx, actor.orgId, id);
    if (!current) throw new NotFoundError('rule', id);
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    if (settings.enabled !== undefined && settings.enabled !== current.enabled)
      changes['enabled'] = { from: current.enabled, to: settings.enabled };
    if (settings.levelOverride !== undefined && settings.levelOverride !== current.levelOverride)
      changes['level_override'] = { from: current.levelOverride, to: settings.levelOverride };
    if (Object.keys(changes).length === 0) return current;
    const next: StoredRule = {
      ...current,
      enabled: settings.enabled ?? current.enabled,
      levelOverride: settings.levelOverride === undefined ? current.levelOverride : settings.levelOverride,
      updatedBy: actor.name,
      updatedAt: unit.now,
    };
    await saveRule(unit.tx, next);
    await unit.audit({ actor, action: 'rule.updated', targetType: 'rule', targetId: id, changes });
    return next;
  });
}

/** Deletes a rule and its versions (the audit trail keeps what it was); audits `rule.deleted`. */
export async function deleteRule(context: ServiceContext, actor: Actor, id: string): Promise<void> {
  assertCan(actor, 'write');
  await inTransaction(context, async (unit) => {
    const current = await findRule(unit.tx, actor.orgId, id);
    if (!current) throw new NotFoundError('rule', id);
    await deleteRuleRow(unit.tx, actor.orgId, id);
    await unit.audit({
      actor,
      action: 'rule.deleted',
      targetType: 'rule',
      targetId: id,
      changes: {
        title: current.title,
        kind: current.kind,
        version: current.version,
        content_hash: current.contentHash,
      },
    });
  });
}

// The active rule set

/** The enabled rules of an organisation compiled for a `Detector`. */
export interface ActiveRuleSet {
  readonly orgId: string;
  readonly set: RuleSet;
  /**
   * Names the exact rules compiled (ids, versions, levels): equal keys mean equal sets, in any
   * process. The pipeline rebuilds its Detector when the key changes.
   */
  readonly key: string;
  /** Enabled rules that could not be activated (a correlation whose rule is disabled, ...). */
  readonly failures: readonly RuleFailure[];
}

/** What compiling a stored rule needs (plain data: it crosses to the pipeline's worker thread). */
export type StoredRuleSource = Pick<StoredRule, 'id' | 'yaml' | 'levelOverride'>;

function documentOf(rule: StoredRuleSource): SigmaDocument {
  const doc = parseSigmaYaml(rule.yaml)[0]!;
  return rule.levelOverride === null ? doc : { ...doc, level: rule.levelOverride };
}

/** Compiles stored rules (level overrides applied); `file` carries the stored id. Pure. */
export function compileStoredRules(
  rules: readonly StoredRuleSource[],
  mapping: LogsourceMapping,
): { set: RuleSet; failures: RuleFailure[] } {
  const documents: SourceDocument[] = [];
  const failures: RuleFailure[] = [];
  for (const rule of rules) {
    try {
      documents.push({ doc: documentOf(rule), file: rule.id });
    } catch (error) {
      failures.push({ file: rule.id, reason: (error as Error).message, code: 'sigma_rule_invalid' });
    }
  }
  const built = buildRuleSet(documents, mapping);
  return { set: built.set, failures: [...failures, ...built.failures] };
}

/**
 * What an organisation's active rule set is made of, before compiling: its enabled rules and the
 * mapping with its value lists filled in. Plain data, so a worker thread can compile it.
 */
export interface ActiveRuleSources {
  readonly orgId: string;
  /** As ActiveRuleSet.key. */
  readonly key: string;
  readonly rules: readonly StoredRuleSource[];
  readonly mapping: LogsourceMapping;
}

interface OrgRuleCache {
  sources?: Promise<ActiveRuleSources>;
  compiled?: Promise<ActiveRuleSet>;
}

const activeCaches = new WeakMap<ServiceContext['listeners'], Map<string, OrgRuleCache>>();

function cacheOf(context: ServiceContext): Map<string, OrgRuleCache> {
  let cache = activeCaches.get(context.listeners);
  if (cache === undefined) {
    const created = new Map<string, OrgRuleCache>();
    cache = created;
    activeCaches.set(context.listeners, created);
    // Changes from this process, and on PostgreSQL from the others (the change feed), drop the
    // organisation's sources and compiled set; the next call reads and compiles them again.
    context.listeners.add((event: DomainEvent) => {
      if (event.action.startsWith('rule.') || event.action.startsWith('detection_list.')) {
        created.delete(event.orgId);
      }
    });
  }
  return cache;
}

function entryOf(context: ServiceContext, orgId: string): OrgRuleCache {
  const cache = cacheOf(context);
  let entry = cache.get(orgId);
  if (entry === undefined) {
    entry = {};
    cache.set(orgId, entry);
  }
  return entry;
}

/** Caches `load` in `entry[slot]`, forgetting it again when it fails. */
function cached<K extends keyof OrgRuleCache>(
  entry: OrgRuleCache,
  slot: K,
  load: () => NonNullable<OrgRuleCache[K]>,
): NonNullable<OrgRuleCache[K]> {
  const hit = entry[slot];
  if (hit) return hit as NonNullable<OrgRuleCache[K]>;
  const loading = load();
  entry[slot] = loading;
  (loading as Promise<unknown>).catch(() => {
    if (entry[slot] === loading) delete entry[slot];
  });
  return loading;
}

/** The organisation's enabled rules and mapping, cached like the compiled set. */
export function loadActiveRuleSources(context: ServiceContext, orgId: string): Promise<ActiveRuleSources> {
  return cached(entryOf(context, orgId), 'sources', async () => {
    const [shipped, stored, lists] = await Promise.all([
      ruleMapping(),
      listEnabledRules(context.database.db, orgId),
      listPlaceholders(context.database.db, orgId),
    ]);
    // The organisation's imported lists fill (and override) the shipped placeholders.
    const mapping = { ...shipped, placeholders: { ...shipped.placeholders, ...lists } };
    const key = context.sha256(
      [
        ...stored.map((r) => `${r.id}@${r.version}:${r.contentHash}:${r.levelOverride ?? ''}`),
        ...Object.entries(lists).map(
          ([name, entries]) => `%${name}%:${context.sha256(JSON.stringify(entries))}`,
        ),
      ].join('\n'),
    );
    const rules = stored.map((r) => ({ id: r.id, yaml: r.yaml, levelOverride: r.levelOverride }));
    return { orgId, key, rules, mapping };
  });
}

/**
 * The organisation's enabled rules compiled into a RuleSet for a `Detector`, cached per organisation
 * and compiled again after any `rule.*` change. Never throws for a rule that cannot run: it is left
 * out and listed in `failures`.
 */
export function loadActiveRuleSet(context: ServiceContext, orgId: string): Promise<ActiveRuleSet> {
  const entry = entryOf(context, orgId);
  return cached(entry, 'compiled', async () => {
    const sources = await loadActiveRuleSources(context, orgId);
    const { set, failures } = compileStoredRules(sources.rules, sources.mapping);
    return { orgId, set, key: sources.key, failures };
  });
}

// Trying rules on an event

export interface RuleTestResult {
  readonly matched: boolean;
  /** Rules whose selection matched the event (also those that only feed a correlation or baseline). */
  readonly selectedRules: readonly string[];
  readonly detections: readonly DescribedDetection[];
  /** Why nothing could be reported from one event (correlations, anomalies, filters), else null. */
  readonly explanation: string | null;
}

function explain(set: RuleSet, docs: readonly SigmaDocument[], fired: Set<string>): string | null {
  const notes: string[] = [];
  for (const d of docs) {
    if (d.kind === 'correlation' && !(d.id !== undefined && fired.has(d.id))) {
      notes.push(
        `correlation "${d.title}" (${d.type}${d.groupBy.length ? ` by ${d.groupBy.join(', ')}` : ''} within ${d.timespanMs / 1000} s) needs several events; one event cannot complete it — test the rules it references (${d.rules.join(', ')})`,
      );
    } else if (d.kind === 'filter') {
      notes.push(`filter "${d.title}" matches nothing by itself; it removes matches of the rules it names`);
    }
  }
  for (const r of set.rules) {
    if (r.anomaly !== undefined && !fired.has(r.info.id))
      notes.push(
        `anomaly rule "${r.info.title}" compares a window's value with the entity's learnt baseline; one event only feeds it`,
      );
  }
  return notes.length ? notes.join('. ') : null;
}

function runTest(
  set: RuleSet,
  docs: readonly SigmaDocument[],
  event: Record<string, unknown>,
): RuleTestResult {
  const prepared = prepareEvent(event);
  const detector = new Detector(set);
  const selected = detector.matcher.match(prepared).map((r) => r.info.id);
  const detections = detector.process(prepareEvent(event)).map(describeDetection);
  const fired = new Set(detections.map((d) => d.ruleId));
  return {
    matched: detections.length > 0,
    selectedRules: [...new Set(selected)],
    detections,
    explanation: explain(set, docs, fired),
  };
}

/**
 * Runs one stored rule (at its override level, with the organisation's enabled filters) on an event
 * and says what it would report. Nothing is written.
 */
export async function testStoredRule(
  context: ServiceContext,
  actor: Actor,
  id: string,
  event: Record<string, unknown>,
): Promise<RuleTestResult> {
  assertCan(actor, 'read');
  const rule = await requireRule(context, actor, id);
  const mapping = await ruleMapping();
  const doc = documentOf(rule);
  const filters = (await listEnabledRules(context.database.db, actor.orgId)).filter(
    (r) => r.kind === 'filter' && r.id !== rule.id,
  );
  const { set } = compileStoredRules([{ ...rule, enabled: true }, ...filters], mapping);
  return runTest(set, [doc], event);
}

/** Compiles YAML (one or more documents) without saving it and runs it on an event. */
export async function testRuleYaml(
  context: ServiceContext,
  actor: Actor,
  yaml: string,
  event: Record<string, unknown>,
): Promise<RuleTestResult> {
  assertCan(actor, 'read');
  const mapping = await ruleMapping();
  const docs: SourceDocument[] = [];
  for (const d of splitDocuments(yaml)) {
    const where = { field: 'yaml', document: d.index };
    if (d.error !== undefined) throw new UserError('invalid_yaml', `document ${d.index}: ${d.error}`, where);
    try {
      const doc = checkDocument(d.value, mapping);
      docs.push({ doc, file: doc.id ?? `document-${d.index}` });
    } catch (error) {
      if (error instanceof SigmaRuleError)
        throw new UserError(
          error.code,
          `document ${d.index}: ${error.message}`,
          {
            ...where,
            path: error.path,
            ...(error.feature ? { feature: error.feature } : {}),
          },
          { cause: error },
        );
      throw error;
    }
  }
  if (docs.length === 0) throw new UserError('no_document', 'the YAML holds no document', { field: 'yaml' });
  const built = buildRuleSet(docs, mapping);
  const broken = built.failures[0];
  if (broken) throw new UserError(broken.code, broken.reason, { field: 'yaml', rule: broken.file });
  return runTest(
    built.set,
    docs.map((d) => d.doc),
    event,
  );
}
