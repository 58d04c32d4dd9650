import type { Kysely } from 'kysely';
import { assertCan, type Actor } from '../core/actor.js';
import { IllegalStateError, NotFoundError, UserError } from '../core/errors.js';
import type { Alert, AlertSummary, Incident, ObservableInput, Page } from '../core/model.js';
import { normaliseObservable } from '../core/observable.js';
import type { AlertStatus, DismissReason, IncidentCategory, Severity } from '../core/vocabulary.js';
import {
  findAlert,
  findAlertByDedupKey,
  findAlerts,
  listAlerts as listAlertRows,
  saveAlertResolution,
  saveAlertState,
  upsertAlert,
  type AlertListQuery,
} from '../storage/alert-repository.js';
import { saveIncident } from '../storage/incident-repository.js';
import { recordSighting } from '../storage/observable-repository.js';
import type { Schema } from '../storage/schema.js';
import { inTransaction, type ServiceContext, type UnitOfWork } from './context.js';
import { createIncidentIn, requireIncident } from './incidents.js';

export interface IngestAlertInput {
  readonly title: string;
  readonly severity: Severity;
  readonly source: string;
  readonly rule?: string | undefined;
  readonly dedupKey?: string | undefined;
  /** When the source saw it; defaults to now. */
  readonly seenAt?: string | undefined;
  readonly observables?: readonly ObservableInput[] | undefined;
  readonly payload?: unknown;
  /** Longer text from the source; a repeat without one keeps the stored description. */
  readonly description?: string | undefined;
}

export async function requireAlert(db: Kysely<Schema>, actor: Actor, id: string): Promise<Alert> {
  const alert = await findAlert(db, actor.orgId, id);
  if (!alert) throw new NotFoundError('alert', id);
  return alert;
}

/**
 * Records an alert. A repeat of an existing dedup key counts one more occurrence on the stored alert
 * instead of creating another (audited as `alert.repeated`). Observables are normalised first, so one
 * bad value rejects the whole alert before anything is written.
 */
export async function ingestAlert(
  context: ServiceContext,
  actor: Actor,
  input: IngestAlertInput,
): Promise<{ alert: Alert; created: boolean }> {
  assertCan(actor, 'write');
  const observables = normaliseAlertObservables(input);
  return inTransaction(context, (unit) => recordAlert(unit, context, actor, input, observables));
}

/**
 * `ingestAlert` inside the caller's unit of work (integrations record a whole post in one
 * transaction). Throws UserError for a bad observable before writing anything.
 */
export async function ingestAlertIn(
  unit: UnitOfWork,
  context: ServiceContext,
  actor: Actor,
  input: IngestAlertInput,
): Promise<{ alert: Alert; created: boolean }> {
  assertCan(actor, 'write');
  return recordAlert(unit, context, actor, input, normaliseAlertObservables(input));
}

function normaliseAlertObservables(input: IngestAlertInput): ObservableInput[] {
  return (input.observables ?? []).map((o, index) => {
    try {
      return { type: o.type, value: normaliseObservable(o.type, o.value) };
    } catch (error) {
      if (error instanceof UserError) {
        throw new UserError(error.code, error.message, {
          ...error.details,
          field: `observables[${index}].value`,
        });
      }
      throw error;
    }
  });
}

async function recordAlert(
  unit: UnitOfWork,
  context: ServiceContext,
  actor: Actor,
  input: IngestAlertInput,
  observables: readonly ObservableInput[],
): Promise<{ alert: Alert; created: boolean }> {
  const seenAt = input.seenAt ?? unit.now;
  const result = await upsertAlert(unit.tx, {
    id: context.newId(),
    orgId: actor.orgId,
    title: input.title,
    source: input.source,
    rule: input.rule ?? null,
    severity: input.severity,
    dedupKey: input.dedupKey ?? null,
    seenAt,
    payload: input.payload,
    now: unit.now,
    description: input.description,
  });
  const { created } = result;
  let { alert } = result;
  // A new firing after the source said the condition ended reopens the alert; a late repeat of
  // the firing it already resolved (seen before the resolution) does not.
  const reopened = !created && alert.resolvedAt !== null && seenAt >= alert.resolvedAt;
  const wasResolvedAt = alert.resolvedAt;
  if (reopened) {
    alert = { ...alert, resolvedAt: null, updatedAt: unit.now };
    await saveAlertResolution(unit.tx, alert);
  }
  for (const observable of observables) {
    await recordSighting(unit.tx, context.newId, {
      orgId: actor.orgId,
      ...observable,
      seenAt,
      alertId: alert.id,
    });
    if (alert.incidentId) {
      await recordSighting(unit.tx, context.newId, {
        orgId: actor.orgId,
        ...observable,
        seenAt,
        incidentId: alert.incidentId,
      });
    }
  }
  await unit.audit({
    actor,
    action: created ? 'alert.created' : reopened ? 'alert.reopened' : 'alert.repeated',
    targetType: 'alert',
    targetId: alert.id,
    incidentId: alert.incidentId,
    changes: created
      ? {
          title: alert.title,
          severity: alert.severity,
          source: alert.source,
          rule: alert.rule,
          dedup_key: alert.dedupKey,
          observables,
        }
      : {
          occurrence_count: alert.occurrenceCount,
          seen_at: seenAt,
          ...(reopened ? { resolved_at: { from: wasResolvedAt, to: null } } : {}),
        },
  });
  return { alert, created };
}

/**
 * Records that the source says the condition behind the alert with this dedup key ended
 * (`alert.resolved`). No alert with the key, an alert already resolved, or a resolution older than
 * the alert's last sighting (a late message) changes nothing and answers `resolved: false`.
 */
export async function resolveAlert(
  context: ServiceContext,
  actor: Actor,
  input: { readonly dedupKey: string; readonly resolvedAt: string },
): Promise<{ alert: Alert | null; resolved: boolean }> {
  assertCan(actor, 'write');
  return inTransaction(context, (unit) => resolveAlertIn(unit, actor, input));
}

/** `resolveAlert` inside the caller's unit of work. */
export async function resolveAlertIn(
  unit: UnitOfWork,
  actor: Actor,
  input: { readonly dedupKey: string; readonly resolvedAt: string },
): Promise<{ alert: Alert | null; resolved: boolean }> {
  assertCan(actor, 'write');
  const alert = await findAlertByDedupKey(unit.tx, actor.orgId, input.dedupKey);
  if (!alert || alert.resolvedAt !== null || input.resolvedAt < alert.lastSeen) {
    return { alert, resolved: false };
  }
  const updated: Alert = { ...alert, resolvedAt: input.resolvedAt, updatedAt: unit.now };
  await saveAlertResolution(unit.tx, updated);
  await unit.audit({
    actor,
    action: 'alert.resolved',
    targetType: 'alert',
    targetId: alert.id,
    incidentId: alert.incidentId,
    changes: { resolved_at: input.resolvedAt, dedup_key: input.dedupKey },
  });
  return { alert: updated, resolved: true };
}

export async function getAlert(context: ServiceContext, actor: Actor, id: string): Promise<Alert> {
  assertCan(actor, 'read');
  return requireAlert(context.database.db, actor, id);
}

export async function listAlerts(
  context: ServiceContext,
  actor: Actor,
  query: Omit<AlertListQuery, 'orgId'>,
): Promise<Page<AlertSummary>> {
  assertCan(actor, 'read');
  return listAlertRows(context.database.db, context.database.dialect, { ...query, orgId: actor.orgId });
}

export interface AlertStatusChange {
  readonly status: Exclude<AlertStatus, 'escalated'>;
  readonly reason?: DismissReason | undefined;
  readonly comment?: string | undefined;
}

/**
 * Acknowledges, dismisses (with a reason) or reopens (`new`) alerts in bulk: all or nothing, so an
 * unknown id rejects the whole request. Alerts linked to an incident are escalated and stay so.
 */
export async function changeAlertStatus(
  context: ServiceContext,
  actor: Actor,
  ids: readonly string[],
  change: AlertStatusChange,
): Promise<Alert[]> {
  assertCan(actor, 'write');
  if (change.status === 'dismissed' && !change.reason) {
    throw new UserError('reason_required', 'dismissing an alert needs a reason', { field: 'reason' });
  }
  return inTransaction(context, async (unit) => {
    const alerts = await loadAll(unit, actor, ids);
    const linked = alerts.filter((a) => a.incidentId !== null).map((a) => a.id);
    if (linked.length > 0) {
      throw new IllegalStateError(
        'alert_escalated',
        'alerts linked to an incident are handled in the incident',
        {
          ids: linked,
        },
      );
    }
    const updated: Alert[] = [];
    for (const alert of alerts) {
      const next: Alert = {
        ...alert,
        status: change.status,
        dismissReason: change.status === 'dismissed' ? (change.reason ?? null) : null,
        dismissComment: change.status === 'dismissed' ? (change.comment ?? null) : null,
        updatedAt: unit.now,
      };
      if (next.status === alert.status && next.dismissReason === alert.dismissReason) {
        updated.push(alert);
        continue;
      }
      await saveAlertState(unit.tx, next);
      await unit.audit({
        actor,
        action: 'alert.status_changed',
        targetType: 'alert',
        targetId: alert.id,
        changes: {
          from: alert.status,
          to: next.status,
          reason: next.dismissReason,
          comment: next.dismissComment,
        },
      });
      updated.push(next);
    }
    return updated;
  });
}

async function loadAll(unit: UnitOfWork, actor: Actor, ids: readonly string[]): Promise<Alert[]> {
  const unique = [...new Set(ids)];
  const alerts = await findAlerts(unit.tx, actor.orgId, unique);
  if (alerts.length !== unique.length) {
    const found = new Set(alerts.map((a) => a.id));
    const missing = unique.filter((id) => !found.has(id));
    throw new NotFoundError('alert', missing.join(','));
  }
  const order = new Map(unique.map((id, index) => [id, index]));
  return alerts.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

/**
 * Links alerts to an incident in one transaction: each becomes `escalated`, its observables are seen
 * in the incident, and the incident's `detected_at` moves back to the earliest alert. Alerts already in
 * this incident are skipped; alerts in another incident are refused (`alert_in_other_incident`).
 * Runs inside the caller's unit of work (detections link the alerts they raise).
 */
export async function linkAlerts(
  unit: UnitOfWork,
  context: ServiceContext,
  actor: Actor,
  incident: Incident,
  ids: readonly string[],
): Promise<Incident> {
  if (incident.phase === 'closed') {
    throw new IllegalStateError(
      'incident_closed',
      'alerts cannot be merged into a closed incident; reopen it first',
      {
        id: incident.id,
      },
    );
  }
  const alerts = await loadAll(unit, actor, ids);
  const elsewhere = alerts
    .filter((a) => a.incidentId !== null && a.incidentId !== incident.id)
    .map((a) => a.id);
  if (elsewhere.length > 0) {
    throw new IllegalStateError('alert_in_other_incident', 'some alerts already belong to another incident', {
      ids: elsewhere,
    });
  }
  const fresh = alerts.filter((a) => a.incidentId === null);
  if (fresh.length === 0) return incident;
  for (const alert of fresh) {
    await saveAlertState(unit.tx, {
      ...alert,
      status: 'escalated',
      incidentId: incident.id,
      updatedAt: unit.now,
    });
    const links = await unit.tx
      .selectFrom('observable_links as l')
      .innerJoin('observables as o', 'o.id', 'l.observable_id')
      .select(['o.type', 'o.value'])
      .where('l.alert_id', '=', alert.id)
      .execute();
    for (const link of links) {
      await recordSighting(unit.tx, context.newId, {
        orgId: actor.orgId,
        type: link.type as ObservableInput['type'],
        value: link.value,
        seenAt: unit.now,
        incidentId: incident.id,
      });
    }
  }
  const earliest = fresh.reduce((min, a) => (a.firstSeen < min ? a.firstSeen : min), incident.detectedAt);
  const updated: Incident = { ...incident, detectedAt: earliest, updatedAt: unit.now };
  await saveIncident(unit.tx, updated);
  await unit.audit({
    actor,
    action: 'incident.alerts_merged',
    targetType: 'incident',
    targetId: incident.id,
    incidentId: incident.id,
    changes: {
      alert_ids: fresh.map((a) => a.id),
      ...(earliest !== incident.detectedAt
        ? { detected_at: { from: incident.detectedAt, to: earliest } }
        : {}),
    },
  });
  return updated;
}

/** Merges alerts into an existing incident (bulk, all or nothing). */
export async function mergeAlerts(
  context: ServiceContext,
  actor: Actor,
  incidentId: string,
  alertIds: readonly string[],
): Promise<Incident> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    const incident = await requireIncident(unit.tx, actor, incidentId);
    return linkAlerts(unit, context, actor, incident, alertIds);
  });
}

export interface PromoteOptions {
  readonly title?: string | undefined;
  readonly severity?: Severity | undefined;
  readonly category?: IncidentCategory | undefined;
  /** More alerts to link to the new incident with the promoted one. */
  readonly alertIds?: readonly string[] | undefined;
}

/** Opens a new incident from an alert (its title, severity and first sighting) and links it. */
export async function promoteAlert(
  context: ServiceContext,
  actor: Actor,
  alertId: string,
  options: PromoteOptions = {},
): Promise<Incident> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    const alert = await requireAlert(unit.tx, actor, alertId);
    if (alert.incidentId) {
      throw new IllegalStateError('alert_in_other_incident', 'the alert already belongs to an incident', {
        ids: [alert.id],
        incident_id: alert.incidentId,
      });
    }
    const description = [
      `Promoted from alert "${alert.title}"`,
      `source: ${alert.source}`,
      alert.rule ? `rule: ${alert.rule}` : null,
    ]
      .filter(Boolean)
      .join('\n\n');
    const incident = await createIncidentIn(
      unit,
      context,
      actor,
      {
        title: options.title ?? alert.title,
        severity: options.severity ?? alert.severity,
        category: options.category,
        description,
        detectedAt: alert.firstSeen,
      },
      { from_alert: alert.id },
    );
    return linkAlerts(unit, context, actor, incident, [alert.id, ...(options.alertIds ?? [])]);
  });
}
