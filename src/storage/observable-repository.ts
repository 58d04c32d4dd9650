import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { IdGenerator } from '../core/ids.js';
import type { Observable } from '../core/model.js';
import type { ObservableType, Tlp } from '../core/vocabulary.js';
import { observableFromRow } from './rows.js';
import type { Schema } from './schema.js';

export interface ObservableSighting {
  readonly orgId: string;
  readonly type: ObservableType;
  /** Already normalised. */
  readonly value: string;
  readonly seenAt: string;
  readonly ioc?: boolean | undefined;
  readonly tlp?: Tlp | undefined;
  readonly description?: string | undefined;
  /** Exactly one of these names where it was seen. */
  readonly incidentId?: string | undefined;
  readonly alertId?: string | undefined;
}

/**
 * Records that a value was seen in an incident or alert: creates the observable on first sight,
 * links it once per incident/alert, and counts a sighting for each new link. Returns the observable
 * and whether the link is new.
 */
export async function recordSighting(
  db: Kysely<Schema>,
  newId: IdGenerator,
  sighting: ObservableSighting,
): Promise<{ observable: Observable; linked: boolean }> {
  const stored = await db
    .insertInto('observables')
    .values({
      id: newId(),
      org_id: sighting.orgId,
      type: sighting.type,
      value: sighting.value,
      ioc: sighting.ioc ? 1 : 0,
      tlp: sighting.tlp ?? 'amber',
      description: sighting.description ?? '',
      sightings: 0,
      first_seen: sighting.seenAt,
      last_seen: sighting.seenAt,
    })
    .onConflict((oc) =>
      oc.columns(['org_id', 'type', 'value']).doUpdateSet((eb) => ({
        last_seen: sql<string>`case when ${eb.ref('excluded.last_seen')} > ${eb.ref('observables.last_seen')} then ${eb.ref('excluded.last_seen')} else ${eb.ref('observables.last_seen')} end`,
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  const linkColumn = sighting.incidentId ? 'incident_id' : 'alert_id';
  const inserted = await db
    .insertInto('observable_links')
    .values({
      id: newId(),
      org_id: sighting.orgId,
      observable_id: stored.id,
      incident_id: sighting.incidentId ?? null,
      alert_id: sighting.alertId ?? null,
      created_at: sighting.seenAt,
    })
    .onConflict((oc) =>
      oc.columns(['observable_id', linkColumn]).where(linkColumn, 'is not', null).doNothing(),
    )
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return { observable: observableFromRow(stored), linked: false };
  const counted = await db
    .updateTable('observables')
    .set((eb) => ({ sightings: eb('sightings', '+', 1) }))
    .where('id', '=', stored.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { observable: observableFromRow(counted), linked: true };
}

export async function findObservable(
  db: Kysely<Schema>,
  orgId: string,
  id: string,
): Promise<Observable | null> {
  const row = await db
    .selectFrom('observables')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? observableFromRow(row) : null;
}

export async function updateObservable(
  db: Kysely<Schema>,
  orgId: string,
  id: string,
  patch: { ioc?: boolean | undefined; tlp?: Tlp | undefined; description?: string | undefined },
): Promise<Observable | null> {
  const row = await db
    .updateTable('observables')
    .set({
      ...(patch.ioc === undefined ? {} : { ioc: patch.ioc ? 1 : 0 }),
      ...(patch.tlp === undefined ? {} : { tlp: patch.tlp }),
      ...(patch.description === undefined ? {} : { description: patch.description }),
    })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row ? observableFromRow(row) : null;
}

/** The observables linked to an incident, with how many other incidents saw each. */
export async function listIncidentObservables(
  db: Kysely<Schema>,
  orgId: string,
  incidentId: string,
): Promise<Array<Observable & { otherIncidents: number }>> {
  const rows = await db
    .selectFrom('observable_links as l')
    .innerJoin('observables as o', 'o.id', 'l.observable_id')
    .selectAll('o')
    .select((eb) =>
      eb
        .selectFrom('observable_links as other')
        .select((inner) => inner.fn.countAll<number>().as('n'))
        .whereRef('other.observable_id', '=', 'o.id')
        .where('other.incident_id', 'is not', null)
        .where('other.incident_id', '!=', incidentId)
        .as('other_incidents'),
    )
    .where('l.org_id', '=', orgId)
    .where('l.incident_id', '=', incidentId)
    .orderBy('o.type')
    .orderBy('o.value')
    .execute();
  return rows.map((row) => ({ ...observableFromRow(row), otherIncidents: Number(row.other_incidents ?? 0) }));
}

/** The observables extracted from an alert. */
export async function listAlertObservables(
  db: Kysely<Schema>,
  orgId: string,
  alertId: string,
): Promise<Observable[]> {
  const rows = await db
    .selectFrom('observable_links as l')
    .innerJoin('observables as o', 'o.id', 'l.observable_id')
    .selectAll('o')
    .where('l.org_id', '=', orgId)
    .where('l.alert_id', '=', alertId)
    .orderBy('o.type')
    .orderBy('o.value')
    .execute();
  return rows.map(observableFromRow);
}

export interface LookupHit {
  readonly kind: 'incident' | 'alert';
  readonly id: string;
  readonly title: string;
  readonly severity: string;
  /** incident phase or alert status */
  readonly state: string;
  readonly seenAt: string;
}

/**
 * "Which incidents and alerts saw this value?" — one query: the unique (org, type, value) index finds
 * the observable, the (observable, created_at) link index finds where it was seen, newest first;
 * at most `limit` places are returned.
 */
export async function lookupObservable(
  db: Kysely<Schema>,
  orgId: string,
  type: ObservableType,
  value: string,
  limit: number,
): Promise<{ observable: Observable | null; hits: LookupHit[] }> {
  const rows = await db
    .selectFrom('observables as o')
    .leftJoin('observable_links as l', 'l.observable_id', 'o.id')
    .leftJoin('incidents as i', 'i.id', 'l.incident_id')
    .leftJoin('alerts as a', 'a.id', 'l.alert_id')
    .selectAll('o')
    .select([
      'l.incident_id as hit_incident_id',
      'l.alert_id as hit_alert_id',
      'l.created_at as hit_at',
      'i.title as incident_title',
      'i.severity as incident_severity',
      'i.phase as incident_phase',
      'a.title as alert_title',
      'a.severity as alert_severity',
      'a.status as alert_status',
    ])
    .where('o.org_id', '=', orgId)
    .where('o.type', '=', type)
    .where('o.value', '=', value)
    .orderBy('l.created_at', 'desc')
    .limit(limit)
    .execute();
  const first = rows[0];
  if (!first) return { observable: null, hits: [] };
  const hits: LookupHit[] = [];
  for (const row of rows) {
    if (row.hit_incident_id && row.incident_title !== null) {
      hits.push({
        kind: 'incident',
        id: row.hit_incident_id,
        title: row.incident_title,
        severity: row.incident_severity ?? '',
        state: row.incident_phase ?? '',
        seenAt: row.hit_at ?? '',
      });
    } else if (row.hit_alert_id && row.alert_title !== null) {
      hits.push({
        kind: 'alert',
        id: row.hit_alert_id,
        title: row.alert_title,
        severity: row.alert_severity ?? '',
        state: row.alert_status ?? '',
        seenAt: row.hit_at ?? '',
      });
    }
  }
  return { observable: observableFromRow(first), hits };
}
