import { sql, type Kysely } from 'kysely';
import type { Phase } from '../core/incident-lifecycle.js';
import type { Incident, Page } from '../core/model.js';
import { severityRank, type IncidentCategory, type Severity } from '../core/vocabulary.js';
import type { DialectName } from './database.js';
import { decodeCursor, encodeCursor, likeContains, type SortOrder } from './pagination.js';
import { incidentFromRow } from './rows.js';
import type { IncidentTable, Schema } from './schema.js';

export const INCIDENT_SORTS = ['created_at', 'updated_at', 'detected_at', 'severity'] as const;
export type IncidentSort = (typeof INCIDENT_SORTS)[number];

export interface IncidentListQuery {
  readonly orgId: string;
  readonly phases?: readonly Phase[] | undefined;
  readonly severities?: readonly Severity[] | undefined;
  readonly categories?: readonly IncidentCategory[] | undefined;
  readonly assigneeId?: string | undefined;
  /** Free text, matched against title and description. */
  readonly q?: string | undefined;
  readonly sort: IncidentSort;
  readonly order: SortOrder;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** The columns a sort walks, most significant first; `id` breaks ties so every key is unique. */
const SORT_COLUMNS: Record<IncidentSort, readonly (keyof IncidentTable & string)[]> = {
  created_at: ['created_at', 'id'],
  updated_at: ['updated_at', 'id'],
  detected_at: ['detected_at', 'id'],
  severity: ['severity_rank', 'created_at', 'id'],
};

export async function findIncident(db: Kysely<Schema>, orgId: string, id: string): Promise<Incident | null> {
  const row = await db
    .selectFrom('incidents')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? incidentFromRow(row) : null;
}

/** Matches up to which the SQLite search index drives the query (then sorts the few matches). */
const SEARCH_DRIVE_LIMIT = 200;

/** An FTS5 string: the whole text as one phrase, so no character of it is query syntax. */
function ftsPhrase(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/**
 * SQLite: should the trigram index drive this search? Yes for a rare term (few matches to sort);
 * no for a common one, where walking the sort index and testing each row finds a page sooner. Terms
 * under three characters have no trigram and always walk.
 */
async function searchDrivesQuery(db: Kysely<Schema>, text: string): Promise<boolean> {
  if ([...text].length < 3) return false;
  const { rows } = await sql<{
    n: number;
  }>`select count(*) as n from (select rowid from incidents_search where incidents_search match ${ftsPhrase(text)} limit ${SEARCH_DRIVE_LIMIT})`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0) < SEARCH_DRIVE_LIMIT;
}

export async function listIncidents(
  db: Kysely<Schema>,
  dialect: DialectName,
  query: IncidentListQuery,
): Promise<Page<Incident>> {
  const columns = SORT_COLUMNS[query.sort];
  let select = db.selectFrom('incidents').selectAll().where('org_id', '=', query.orgId);
  if (query.phases?.length) select = select.where('phase', 'in', [...query.phases]);
  // Filter on the rank so the (…, severity_rank, created_at, id) indexes serve filter and sort at once.
  if (query.severities?.length)
    select = select.where('severity_rank', 'in', query.severities.map(severityRank));
  if (query.categories?.length) select = select.where('category', 'in', [...query.categories]);
  if (query.assigneeId) select = select.where('assignee_id', '=', query.assigneeId);
  if (query.q) {
    if (dialect === 'sqlite' && (await searchDrivesQuery(db, query.q))) {
      select = select.where(
        sql<boolean>`incidents.rowid in (select rowid from incidents_search where incidents_search match ${ftsPhrase(query.q)})`,
      );
    } else {
      const pattern = likeContains(query.q);
      const op = sql.raw(dialect === 'postgres' ? 'ilike' : 'like');
      select = select.where(
        sql<boolean>`(${sql.ref('title')} ${op} ${pattern} escape '\\' or ${sql.ref('description')} ${op} ${pattern} escape '\\')`,
      );
    }
  }
  if (query.cursor) {
    const values = decodeCursor(query.cursor, query.sort, query.order, columns.length);
    const comparison = query.order === 'desc' ? '<' : '>';
    select = select.where(({ eb, refTuple, tuple }) =>
      columns.length === 2
        ? eb(refTuple(columns[0]!, columns[1]!), comparison, tuple(values[0]!, values[1]!))
        : eb(
            refTuple(columns[0]!, columns[1]!, columns[2]!),
            comparison,
            tuple(values[0]!, values[1]!, values[2]!),
          ),
    );
  }
  for (const column of columns) select = select.orderBy(column, query.order);
  const rows = await select.limit(query.limit + 1).execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > query.limit && last
      ? encodeCursor(
          query.sort,
          query.order,
          columns.map((column) => last[column] as string | number),
        )
      : null;
  return { items: page.map(incidentFromRow), nextCursor };
}

export function incidentToRow(incident: Incident): IncidentTable {
  return {
    id: incident.id,
    org_id: incident.orgId,
    title: incident.title,
    description: incident.description,
    severity: incident.severity,
    severity_rank: severityRank(incident.severity),
    category: incident.category,
    tlp: incident.tlp,
    phase: incident.phase,
    assignee_id: incident.assigneeId,
    personal_data: incident.personalData ? 1 : 0,
    resolution: incident.resolution,
    review_summary: incident.reviewSummary,
    phase_entered_at: JSON.stringify(incident.phaseEnteredAt),
    detected_at: incident.detectedAt,
    created_at: incident.createdAt,
    updated_at: incident.updatedAt,
    acknowledged_at: incident.acknowledgedAt,
    contained_at: incident.containedAt,
    remediated_at: incident.remediatedAt,
    closed_at: incident.closedAt,
  };
}

export async function insertIncident(db: Kysely<Schema>, incident: Incident): Promise<void> {
  await db.insertInto('incidents').values(incidentToRow(incident)).execute();
}

/** Writes every mutable column of the incident (the service decides what changed and audits it). */
export async function saveIncident(db: Kysely<Schema>, incident: Incident): Promise<void> {
  const { id: _id, org_id: _org, created_at: _created, ...mutable } = incidentToRow(incident);
  await db
    .updateTable('incidents')
    .set(mutable)
    .where('org_id', '=', incident.orgId)
    .where('id', '=', incident.id)
    .execute();
}
