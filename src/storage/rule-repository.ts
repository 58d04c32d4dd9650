import { sql, type Kysely, type Selectable } from 'kysely';
import type { Actor } from '../core/actor.js';
import type { Page } from '../core/model.js';
import type { Level } from '../detection/sigma-rule.js';
import type { DialectName } from './database.js';
import { decodeCursor, encodeCursor, likeContains } from './pagination.js';
import type { RuleTable, Schema, SuppressionTable } from './schema.js';

/**
 * Rules, their versions, suppressions, the detection policy and the checkpointed detector state
 * (rows ⇄ records). Every query names the organisation.
 */

export const RULE_KINDS = ['sigma', 'correlation', 'filter', 'anomaly'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** How a rule has fared: its alerts, repeats, and how many were closed out as false positives. */
export interface RuleStats {
  /** Alerts the rule raised. */
  readonly alerts: number;
  /** Detections counted on those alerts (an alert's first one and its repeats). */
  readonly occurrences: number;
  /** Alerts dismissed as false_positive, or in an incident closed as false_positive. */
  readonly falsePositives: number;
  /** Alerts closed out: dismissed (any reason) or in a closed incident. */
  readonly closed: number;
  /** falsePositives / closed; 0 when none is closed out. */
  readonly falsePositiveShare: number;
  readonly lastMatchAt: string | null;
}

export interface StoredRule {
  readonly orgId: string;
  readonly id: string;
  readonly kind: RuleKind;
  readonly name: string | null;
  readonly title: string;
  readonly level: Level;
  readonly levelOverride: Level | null;
  readonly enabled: boolean;
  readonly yaml: string;
  readonly version: number;
  readonly contentHash: string;
  readonly updatedBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type RuleWithStats = StoredRule & { readonly stats: RuleStats };

export interface RuleVersion {
  readonly version: number;
  readonly title: string;
  readonly level: Level;
  readonly yaml: string;
  readonly contentHash: string;
  readonly updatedBy: string;
  readonly createdAt: string;
}

export interface Suppression {
  readonly id: string;
  readonly orgId: string;
  readonly ruleId: string | null;
  readonly field: string;
  readonly value: string;
  readonly reason: string;
  readonly expiresAt: string | null;
  readonly owner: { readonly kind: string; readonly id: string; readonly name: string };
  readonly createdAt: string;
  readonly hitCount: number;
  readonly lastHitAt: string | null;
}

export function ruleFromRow(row: RuleTable): StoredRule {
  return {
    orgId: row.org_id,
    id: row.id,
    kind: row.kind as RuleKind,
    name: row.name,
    title: row.title,
    level: row.level as Level,
    levelOverride: row.level_override as Level | null,
    enabled: Number(row.enabled) === 1,
    yaml: row.yaml,
    version: Number(row.version),
    contentHash: row.content_hash,
    updatedBy: row.updated_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function ruleToRow(rule: StoredRule): RuleTable {
  return {
    org_id: rule.orgId,
    id: rule.id,
    kind: rule.kind,
    name: rule.name,
    title: rule.title,
    level: rule.level,
    level_override: rule.levelOverride,
    enabled: rule.enabled ? 1 : 0,
    yaml: rule.yaml,
    version: rule.version,
    content_hash: rule.contentHash,
    updated_by: rule.updatedBy,
    created_at: rule.createdAt,
    updated_at: rule.updatedAt,
  };
}

function suppressionFromRow(row: Selectable<SuppressionTable>): Suppression {
  return {
    id: row.id,
    orgId: row.org_id,
    ruleId: row.rule_id,
    field: row.field,
    value: row.value,
    reason: row.reason,
    expiresAt: row.expires_at,
    owner: { kind: row.created_by_kind, id: row.created_by_id, name: row.created_by_name },
    createdAt: row.created_at,
    hitCount: Number(row.hit_count),
    lastHitAt: row.last_hit_at,
  };
}

export async function findRule(db: Kysely<Schema>, orgId: string, id: string): Promise<StoredRule | null> {
  const row = await db
    .selectFrom('rules')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? ruleFromRow(row) : null;
}

/** The stored rules with these ids (one query). */
export async function findRules(
  db: Kysely<Schema>,
  orgId: string,
  ids: readonly string[],
): Promise<StoredRule[]> {
  if (ids.length === 0) return [];
  const out: StoredRule[] = [];
  // Bounded IN lists keep statements small on both engines.
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('rules')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    out.push(...rows.map(ruleFromRow));
  }
  return out;
}

/** Every id and name a correlation or filter may refer to. */
export async function listRuleRefs(db: Kysely<Schema>, orgId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('rules').select(['id', 'name']).where('org_id', '=', orgId).execute();
  const refs = new Set<string>();
  for (const row of rows) {
    refs.add(row.id);
    if (row.name !== null) refs.add(row.name);
  }
  return refs;
}

/** The enabled rules of an organisation, for the active rule set. */
export async function listEnabledRules(db: Kysely<Schema>, orgId: string): Promise<StoredRule[]> {
  const rows = await db
    .selectFrom('rules')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('enabled', '=', 1)
    .orderBy('id')
    .execute();
  return rows.map(ruleFromRow);
}

export async function insertRule(db: Kysely<Schema>, rule: StoredRule): Promise<void> {
  await db.insertInto('rules').values(ruleToRow(rule)).execute();
}

/** Writes every mutable column (the service decides what changed and audits it). */
export async function saveRule(db: Kysely<Schema>, rule: StoredRule): Promise<void> {
  const { org_id: _org, id: _id, created_at: _created, ...mutable } = ruleToRow(rule);
  await db
    .updateTable('rules')
    .set(mutable)
    .where('org_id', '=', rule.orgId)
    .where('id', '=', rule.id)
    .execute();
}

export async function insertRuleVersion(db: Kysely<Schema>, rule: StoredRule): Promise<void> {
  await db
    .insertInto('rule_versions')
    .values({
      org_id: rule.orgId,
      rule_id: rule.id,
      version: rule.version,
      title: rule.title,
      level: rule.level,
      yaml: rule.yaml,
      content_hash: rule.contentHash,
      updated_by: rule.updatedBy,
      created_at: rule.updatedAt,
    })
    .execute();
}

/** Newest first. */
export async function listRuleVersions(
  db: Kysely<Schema>,
  orgId: string,
  ruleId: string,
): Promise<RuleVersion[]> {
  const rows = await db
    .selectFrom('rule_versions')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('rule_id', '=', ruleId)
    .orderBy('version', 'desc')
    .execute();
  return rows.map((row) => ({
    version: Number(row.version),
    title: row.title,
    level: row.level as Level,
    yaml: row.yaml,
    contentHash: row.content_hash,
    updatedBy: row.updated_by,
    createdAt: row.created_at,
  }));
}

export async function deleteRule(db: Kysely<Schema>, orgId: string, id: string): Promise<void> {
  await db.deleteFrom('rule_versions').where('org_id', '=', orgId).where('rule_id', '=', id).execute();
  await db.deleteFrom('rules').where('org_id', '=', orgId).where('id', '=', id).execute();
}

export const RULE_SORTS = [
  'title',
  'updated_at',
  'matches',
  'occurrences',
  'false_positive_share',
  'last_match_at',
] as const;
export type RuleSort = (typeof RULE_SORTS)[number];

export interface RuleListQuery {
  readonly orgId: string;
  readonly enabled?: boolean | undefined;
  /** Effective levels (the override when set, else the rule's own). */
  readonly levels?: readonly Level[] | undefined;
  readonly kinds?: readonly RuleKind[] | undefined;
  /** Substring of the title, or the exact id. */
  readonly q?: string | undefined;
  readonly sort: RuleSort;
  readonly order: 'asc' | 'desc';
  readonly limit: number;
  readonly cursor?: string | undefined;
}

const NO_MATCH_TIME = '1970-01-01T00:00:00.000Z';

/** Per-rule alert aggregates of one organisation, as a derived table (`stats`). */
function statsQuery(db: Kysely<Schema>, dialect: DialectName, orgId: string, ruleIds?: readonly string[]) {
  const real = sql.raw(dialect === 'postgres' ? 'double precision' : 'real');
  let query = db
    .selectFrom('alerts as a')
    .leftJoin('incidents as i', 'i.id', 'a.incident_id')
    .where('a.org_id', '=', orgId)
    .where('a.rule_id', 'is not', null);
  if (ruleIds) query = query.where('a.rule_id', 'in', [...ruleIds]);
  return query
    .groupBy('a.rule_id')
    .select([
      sql<string>`a.rule_id`.as('rule_id'),
      sql<number>`count(*)`.as('alerts'),
      sql<number>`cast(sum(a.occurrence_count) as bigint)`.as('occurrences'),
      sql<number>`cast(sum(case when a.dismiss_reason = 'false_positive' or (i.phase = 'closed' and i.resolution = 'false_positive') then 1 else 0 end) as bigint)`.as(
        'false_positives',
      ),
      sql<number>`cast(sum(case when a.status = 'dismissed' or i.phase = 'closed' then 1 else 0 end) as bigint)`.as(
        'closed',
      ),
      sql<string | null>`max(a.last_seen)`.as('last_match_at'),
    ])
    .select(
      sql<number>`case when sum(case when a.status = 'dismissed' or i.phase = 'closed' then 1 else 0 end) > 0
        then cast(sum(case when a.dismiss_reason = 'false_positive' or (i.phase = 'closed' and i.resolution = 'false_positive') then 1 else 0 end) as ${real})
          / sum(case when a.status = 'dismissed' or i.phase = 'closed' then 1 else 0 end)
        else 0 end`.as('false_positive_share'),
    );
}

interface StatsRow {
  alerts: number | null;
  occurrences: number | null;
  false_positives: number | null;
  closed: number | null;
  false_positive_share: number | null;
  last_match_at: string | null;
}

function statsFromRow(row: StatsRow | undefined): RuleStats {
  return {
    alerts: Number(row?.alerts ?? 0),
    occurrences: Number(row?.occurrences ?? 0),
    falsePositives: Number(row?.false_positives ?? 0),
    closed: Number(row?.closed ?? 0),
    falsePositiveShare: Number(row?.false_positive_share ?? 0),
    lastMatchAt: row?.last_match_at ?? null,
  };
}

/** Statistics of some rules (rules without alerts get zeros). */
export async function ruleStats(
  db: Kysely<Schema>,
  dialect: DialectName,
  orgId: string,
  ruleIds: readonly string[],
): Promise<Map<string, RuleStats>> {
  const rows = ruleIds.length === 0 ? [] : await statsQuery(db, dialect, orgId, ruleIds).execute();
  const byId = new Map(rows.map((row) => [row.rule_id, statsFromRow(row)]));
  return new Map(ruleIds.map((id) => [id, byId.get(id) ?? statsFromRow(undefined)]));
}

/**
 * A keyset page of rules with their statistics, sortable by a statistic (so noisy rules surface).
 * The statistics are aggregated per request: fine for thousands of rules, not for millions.
 */
export async function listRules(
  db: Kysely<Schema>,
  dialect: DialectName,
  query: RuleListQuery,
): Promise<Page<RuleWithStats>> {
  const stats = statsQuery(db, dialect, query.orgId);
  let inner = db
    .selectFrom('rules as r')
    .leftJoin(stats.as('s'), 's.rule_id', 'r.id')
    .selectAll('r')
    .select([
      sql<number>`coalesce(s.alerts, 0)`.as('matches'),
      sql<number>`coalesce(s.occurrences, 0)`.as('occurrences'),
      sql<number>`coalesce(s.false_positives, 0)`.as('false_positives'),
      sql<number>`coalesce(s.closed, 0)`.as('closed'),
      sql<number>`coalesce(s.false_positive_share, 0)`.as('false_positive_share'),
      's.last_match_at as last_match_at',
      (dialect === 'postgres'
        ? sql<string>`coalesce(s.last_match_at, timestamptz '1970-01-01T00:00:00Z')`
        : sql<string>`coalesce(s.last_match_at, ${NO_MATCH_TIME})`
      ).as('last_match_key'),
    ])
    .where('r.org_id', '=', query.orgId);
  if (query.enabled !== undefined) inner = inner.where('r.enabled', '=', query.enabled ? 1 : 0);
  if (query.kinds?.length) inner = inner.where('r.kind', 'in', [...query.kinds]);
  if (query.levels?.length)
    inner = inner.where(sql<string>`coalesce(r.level_override, r.level)`, 'in', [...query.levels]);
  if (query.q) {
    const op = sql.raw(dialect === 'postgres' ? 'ilike' : 'like');
    const q = query.q;
    inner = inner.where((eb) =>
      eb.or([eb(sql<boolean>`r.title ${op} ${likeContains(q)} escape '\\'`, '=', true), eb('r.id', '=', q)]),
    );
  }
  const column =
    query.sort === 'matches' ? 'matches' : query.sort === 'last_match_at' ? 'last_match_key' : query.sort;
  let select = db.selectFrom(inner.as('x')).selectAll();
  if (query.cursor) {
    const [value, id] = decodeCursor(query.cursor, query.sort, query.order, 2);
    const comparison = query.order === 'desc' ? '<' : '>';
    select = select.where(({ eb, refTuple, tuple }) =>
      eb(refTuple(`x.${column}` as 'x.title', 'x.id'), comparison, tuple(value as string, id as string)),
    );
  }
  const rows = await select
    .orderBy(`x.${column}` as 'x.title', query.order)
    .orderBy('x.id', query.order)
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1) as (Record<string, unknown> & { id: string }) | undefined;
  const nextCursor =
    rows.length > query.limit && last
      ? encodeCursor(query.sort, query.order, [last[column] as string | number, last.id])
      : null;
  return {
    items: page.map((row) => ({
      ...ruleFromRow(row),
      stats: statsFromRow({
        alerts: row.matches,
        occurrences: row.occurrences,
        false_positives: row.false_positives,
        closed: row.closed,
        false_positive_share: row.false_positive_share,
        last_match_at: row.last_match_at,
      }),
    })),
    nextCursor,
  };
}

// Suppressions

export interface NewSuppression {
  readonly id: string;
  readonly orgId: string;
  readonly ruleId: string | null;
  readonly field: string;
  readonly value: string;
  readonly reason: string;
  readonly expiresAt: string | null;
  readonly owner: Actor;
  readonly now: string;
}

export async function insertSuppression(db: Kysely<Schema>, s: NewSuppression): Promise<Suppression> {
  const row = await db
    .insertInto('suppressions')
    .values({
      id: s.id,
      org_id: s.orgId,
      rule_id: s.ruleId,
      field: s.field,
      value: s.value,
      reason: s.reason,
      expires_at: s.expiresAt,
      created_by_kind: s.owner.kind,
      created_by_id: s.owner.id,
      created_by_name: s.owner.name,
      created_at: s.now,
      hit_count: 0,
      last_hit_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return suppressionFromRow(row);
}

export async function findSuppression(
  db: Kysely<Schema>,
  orgId: string,
  id: string,
): Promise<Suppression | null> {
  const row = await db
    .selectFrom('suppressions')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? suppressionFromRow(row) : null;
}

export interface SuppressionListQuery {
  readonly orgId: string;
  readonly ruleId?: string | undefined;
  /** Also list expired suppressions (default: only those in force at `now`). */
  readonly includeExpired: boolean;
  readonly now: string;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** Newest first, keyset pages on (created_at, id). */
export async function listSuppressions(
  db: Kysely<Schema>,
  query: SuppressionListQuery,
): Promise<Page<Suppression>> {
  let select = db.selectFrom('suppressions').selectAll().where('org_id', '=', query.orgId);
  if (query.ruleId) select = select.where('rule_id', '=', query.ruleId);
  if (!query.includeExpired)
    select = select.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', query.now)]));
  if (query.cursor) {
    const [value, id] = decodeCursor(query.cursor, 'created_at', 'desc', 2);
    select = select.where(({ eb, refTuple, tuple }) =>
      eb(refTuple('created_at', 'id'), '<', tuple(value as string, id as string)),
    );
  }
  const rows = await select
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(suppressionFromRow),
    nextCursor:
      rows.length > query.limit && last
        ? encodeCursor('created_at', 'desc', [last.created_at, last.id])
        : null,
  };
}

/** Suppressions in force at `now`. */
export async function activeSuppressions(
  db: Kysely<Schema>,
  orgId: string,
  now: string,
): Promise<Suppression[]> {
  const rows = await db
    .selectFrom('suppressions')
    .selectAll()
    .where('org_id', '=', orgId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  return rows.map(suppressionFromRow);
}

export async function countSuppressionHits(
  db: Kysely<Schema>,
  orgId: string,
  id: string,
  hits: number,
  at: string,
): Promise<void> {
  await db
    .updateTable('suppressions')
    .set((eb) => ({ hit_count: eb('hit_count', '+', hits), last_hit_at: at }))
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute();
}

export async function deleteSuppression(db: Kysely<Schema>, orgId: string, id: string): Promise<void> {
  await db.deleteFrom('suppressions').where('org_id', '=', orgId).where('id', '=', id).execute();
}

// Policy and state

export async function findPolicyJson(db: Kysely<Schema>, orgId: string): Promise<string | null> {
  const row = await db
    .selectFrom('detection_policies')
    .select('policy')
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  return row?.policy ?? null;
}

export async function savePolicyJson(
  db: Kysely<Schema>,
  orgId: string,
  policy: string,
  updatedBy: string,
  now: string,
): Promise<void> {
  await db
    .insertInto('detection_policies')
    .values({ org_id: orgId, policy, updated_by: updatedBy, updated_at: now })
    .onConflict((oc) => oc.column('org_id').doUpdateSet({ policy, updated_by: updatedBy, updated_at: now }))
    .execute();
}

export async function findStateJson(db: Kysely<Schema>, orgId: string): Promise<string | null> {
  const row = await db
    .selectFrom('detection_state')
    .select('state')
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  return row?.state ?? null;
}

export async function saveStateJson(
  db: Kysely<Schema>,
  orgId: string,
  state: string,
  now: string,
): Promise<void> {
  await db
    .insertInto('detection_state')
    .values({ org_id: orgId, state, updated_at: now })
    .onConflict((oc) => oc.column('org_id').doUpdateSet({ state, updated_at: now }))
    .execute();
}

// Alerts raised by detections

/** The dedup key of the newest alert of this rule and entity first seen in [since, until]. */
export async function findDedupTarget(
  db: Kysely<Schema>,
  orgId: string,
  ruleId: string,
  entity: string | null,
  since: string,
  until: string,
): Promise<string | null> {
  const row = await db
    .selectFrom('alerts')
    .select('dedup_key')
    .where('org_id', '=', orgId)
    .where('rule_id', '=', ruleId)
    .where('entity', entity === null ? 'is' : '=', entity)
    .where('first_seen', '>=', since)
    .where('first_seen', '<=', until)
    .where('dedup_key', 'is not', null)
    .orderBy('first_seen', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.dedup_key ?? null;
}

/** An incident, not closed, holding an alert of this entity seen since `since`; the latest such. */
export async function findOpenIncidentForEntity(
  db: Kysely<Schema>,
  orgId: string,
  entity: string,
  since: string,
): Promise<string | null> {
  const row = await db
    .selectFrom('alerts as a')
    .innerJoin('incidents as i', 'i.id', 'a.incident_id')
    .select('i.id')
    .where('a.org_id', '=', orgId)
    .where('a.entity', '=', entity)
    .where('a.last_seen', '>=', since)
    .where('i.org_id', '=', orgId)
    .where('i.phase', '<>', 'closed')
    .orderBy('a.last_seen', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id ?? null;
}
