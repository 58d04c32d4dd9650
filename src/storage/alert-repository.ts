import type { Kysely } from 'kysely';
import type { Alert, AlertSummary, Page } from '../core/model.js';
import { severityRank, type AlertStatus, type Severity } from '../core/vocabulary.js';
import type { DialectName } from './database.js';
import { decodeCursor, encodeCursor, likeContains, type SortOrder } from './pagination.js';
import { alertFromRow, alertSummaryFromRow } from './rows.js';
import type { AlertTable, Schema } from './schema.js';
import { sql } from 'kysely';

const SUMMARY_COLUMNS = [
  'id',
  'org_id',
  'title',
  'source',
  'rule',
  'rule_id',
  'entity',
  'severity',
  'severity_rank',
  'status',
  'dismiss_reason',
  'dismiss_comment',
  'dedup_key',
  'first_seen',
  'last_seen',
  'occurrence_count',
  'incident_id',
  'created_at',
  'updated_at',
  'description',
  'resolved_at',
] as const satisfies readonly Exclude<keyof AlertTable, 'payload'>[];

export const ALERT_SORTS = ['created_at', 'last_seen'] as const;
export type AlertSort = (typeof ALERT_SORTS)[number];

export interface AlertListQuery {
  readonly orgId: string;
  readonly statuses?: readonly AlertStatus[] | undefined;
  readonly severities?: readonly Severity[] | undefined;
  readonly source?: string | undefined;
  readonly rule?: string | undefined;
  readonly incidentId?: string | undefined;
  /** true: only alerts not linked to an incident; false: only linked ones. */
  readonly unlinked?: boolean | undefined;
  readonly q?: string | undefined;
  readonly sort: AlertSort;
  readonly order: SortOrder;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface NewAlert {
  readonly id: string;
  readonly orgId: string;
  readonly title: string;
  readonly source: string;
  readonly rule: string | null;
  readonly ruleId?: string | null | undefined;
  readonly entity?: string | null | undefined;
  readonly severity: Severity;
  readonly dedupKey: string | null;
  readonly seenAt: string;
  readonly payload: unknown;
  readonly now: string;
  readonly description?: string | null | undefined;
}

export async function findAlert(db: Kysely<Schema>, orgId: string, id: string): Promise<Alert | null> {
  const row = await db
    .selectFrom('alerts')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? alertFromRow(row) : null;
}

export async function findAlerts(
  db: Kysely<Schema>,
  orgId: string,
  ids: readonly string[],
): Promise<Alert[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('alerts')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', 'in', [...ids])
    .execute();
  return rows.map(alertFromRow);
}

/**
 * Inserts the alert, or, when an alert with the same dedup key exists in the organisation, counts
 * one more occurrence and widens its first/last seen. One statement, so concurrent repeats cannot
 * create twins. Returns the stored alert and whether it is new.
 */
export async function upsertAlert(
  db: Kysely<Schema>,
  alert: NewAlert,
): Promise<{ alert: Alert; created: boolean }> {
  const row: AlertTable = {
    id: alert.id,
    org_id: alert.orgId,
    title: alert.title,
    source: alert.source,
    rule: alert.rule,
    rule_id: alert.ruleId ?? null,
    entity: alert.entity ?? null,
    severity: alert.severity,
    severity_rank: severityRank(alert.severity),
    status: 'new',
    dismiss_reason: null,
    dismiss_comment: null,
    dedup_key: alert.dedupKey,
    first_seen: alert.seenAt,
    last_seen: alert.seenAt,
    occurrence_count: 1,
    payload: alert.payload === undefined ? null : JSON.stringify(alert.payload),
    incident_id: null,
    created_at: alert.now,
    updated_at: alert.now,
    description: alert.description ?? null,
    resolved_at: null,
  };
  if (alert.dedupKey === null) {
    const inserted = await db.insertInto('alerts').values(row).returningAll().executeTakeFirstOrThrow();
    return { alert: alertFromRow(inserted), created: true };
  }
  const stored = await db
    .insertInto('alerts')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['org_id', 'dedup_key']).doUpdateSet((eb) => ({
        occurrence_count: eb('alerts.occurrence_count', '+', 1),
        // Late or out-of-order repeats widen the window instead of moving it backwards.
        first_seen: sql<string>`case when ${eb.ref('excluded.first_seen')} < ${eb.ref('alerts.first_seen')} then ${eb.ref('excluded.first_seen')} else ${eb.ref('alerts.first_seen')} end`,
        last_seen: sql<string>`case when ${eb.ref('excluded.last_seen')} > ${eb.ref('alerts.last_seen')} then ${eb.ref('excluded.last_seen')} else ${eb.ref('alerts.last_seen')} end`,
        payload: eb.ref('excluded.payload'),
        description: sql<
          string | null
        >`coalesce(${eb.ref('excluded.description')}, ${eb.ref('alerts.description')})`,
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return { alert: alertFromRow(stored), created: stored.id === alert.id };
}

export async function listAlerts(
  db: Kysely<Schema>,
  dialect: DialectName,
  query: AlertListQuery,
): Promise<Page<AlertSummary>> {
  const columns = [query.sort, 'id'] as const;
  let select = db.selectFrom('alerts').select(SUMMARY_COLUMNS).where('org_id', '=', query.orgId);
  if (query.statuses?.length) select = select.where('status', 'in', [...query.statuses]);
  if (query.severities?.length)
    select = select.where('severity_rank', 'in', query.severities.map(severityRank));
  if (query.source) select = select.where('source', '=', query.source);
  if (query.rule) select = select.where('rule', '=', query.rule);
  if (query.incidentId) select = select.where('incident_id', '=', query.incidentId);
  if (query.unlinked === true) select = select.where('incident_id', 'is', null);
  if (query.unlinked === false) select = select.where('incident_id', 'is not', null);
  if (query.q) {
    const op = sql.raw(dialect === 'postgres' ? 'ilike' : 'like');
    select = select.where(sql<boolean>`${sql.ref('title')} ${op} ${likeContains(query.q)} escape '\\'`);
  }
  if (query.cursor) {
    const [value, id] = decodeCursor(query.cursor, query.sort, query.order, 2);
    const comparison = query.order === 'desc' ? '<' : '>';
    select = select.where(({ eb, refTuple, tuple }) =>
      eb(refTuple(columns[0], 'id'), comparison, tuple(value as string, id as string)),
    );
  }
  const rows = await select
    .orderBy(columns[0], query.order)
    .orderBy('id', query.order)
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > query.limit && last
      ? encodeCursor(query.sort, query.order, [last[columns[0]], last.id])
      : null;
  return { items: page.map(alertSummaryFromRow), nextCursor };
}

export async function saveAlertState(db: Kysely<Schema>, alert: Alert): Promise<void> {
  await db
    .updateTable('alerts')
    .set({
      status: alert.status,
      dismiss_reason: alert.dismissReason,
      dismiss_comment: alert.dismissComment,
      incident_id: alert.incidentId,
      updated_at: alert.updatedAt,
    })
    .where('org_id', '=', alert.orgId)
    .where('id', '=', alert.id)
    .execute();
}

/** Earliest first-seen of the incident's alerts, or null when it has none. */
export async function earliestAlertSeen(
  db: Kysely<Schema>,
  orgId: string,
  incidentId: string,
): Promise<string | null> {
  const row = await db
    .selectFrom('alerts')
    .select((eb) => eb.fn.min('first_seen').as('earliest'))
    .where('org_id', '=', orgId)
    .where('incident_id', '=', incidentId)
    .executeTakeFirst();
  return (row?.earliest as string | null | undefined) ?? null;
}

/** The alert of the organisation with this dedup key, or null. */
export async function findAlertByDedupKey(
  db: Kysely<Schema>,
  orgId: string,
  dedupKey: string,
): Promise<Alert | null> {
  const row = await db
    .selectFrom('alerts')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('dedup_key', '=', dedupKey)
    .executeTakeFirst();
  return row ? alertFromRow(row) : null;
}

/** Sets or clears when the source said the alert's condition ended. */
export async function saveAlertResolution(
  db: Kysely<Schema>,
  alert: Pick<Alert, 'orgId' | 'id' | 'resolvedAt' | 'updatedAt'>,
): Promise<void> {
  await db
    .updateTable('alerts')
    .set({ resolved_at: alert.resolvedAt, updated_at: alert.updatedAt })
    .where('org_id', '=', alert.orgId)
    .where('id', '=', alert.id)
    .execute();
}
