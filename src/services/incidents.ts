import { assertCan, type Actor } from '../core/actor.js';
import { IllegalStateError, NotFoundError, UserError } from '../core/errors.js';
import { applyPatch } from '../core/field-changes.js';
import { transitionIncident, type TransitionRequest } from '../core/incident-lifecycle.js';
import type { Incident, Page } from '../core/model.js';
import type { IncidentCategory, Severity, Tlp } from '../core/vocabulary.js';
import { readIncidentAudit } from '../storage/audit-repository.js';
import { findUser } from '../storage/identity-repository.js';
import {
  findIncident,
  insertIncident,
  listIncidents as listIncidentRows,
  saveIncident,
  type IncidentListQuery,
} from '../storage/incident-repository.js';
import type { AuditEntry } from '../core/audit-chain.js';
import type { Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { inTransaction, type ServiceContext, type UnitOfWork } from './context.js';

export interface CreateIncidentInput {
  readonly title: string;
  readonly severity: Severity;
  readonly category?: IncidentCategory | undefined;
  readonly description?: string | undefined;
  readonly personalData?: boolean | undefined;
  readonly tlp?: Tlp | undefined;
  readonly assigneeId?: string | null | undefined;
  /** Earliest evidence, when known before any alert is linked; defaults to now. */
  readonly detectedAt?: string | undefined;
}

export type UpdateIncidentInput = Partial<{
  title: string;
  description: string;
  severity: Severity;
  category: IncidentCategory;
  tlp: Tlp;
  assigneeId: string | null;
  personalData: boolean;
  detectedAt: string;
}>;

/** The fields PATCH may change, with their wire names (the audit trail reads like the API). */
const EDITABLE_FIELDS = {
  title: 'title',
  description: 'description',
  severity: 'severity',
  category: 'category',
  tlp: 'tlp',
  assigneeId: 'assignee_id',
  personalData: 'personal_data',
  detectedAt: 'detected_at',
} as const satisfies Partial<Record<keyof UpdateIncidentInput & keyof Incident, string>>;

/** Loads an incident of the actor's organisation or throws NotFoundError (also for other orgs). */
export async function requireIncident(db: Kysely<Schema>, actor: Actor, id: string): Promise<Incident> {
  const incident = await findIncident(db, actor.orgId, id);
  if (!incident) throw new NotFoundError('incident', id);
  return incident;
}

/** Throws UserError `unknown_assignee` unless the id names an active user of the actor's organisation. */
export async function assertAssignable(
  unit: UnitOfWork,
  actor: Actor,
  assigneeId: string | null | undefined,
): Promise<void> {
  if (!assigneeId) return;
  const user = await findUser(unit.tx, actor.orgId, assigneeId);
  if (!user || user.disabled) {
    throw new UserError('unknown_assignee', `no active user ${assigneeId} in this organisation`, {
      field: 'assignee_id',
      id: assigneeId,
    });
  }
}

function assertNotBefore(field: string, value: string | undefined, limit: string): void {
  if (value !== undefined && value > limit) {
    throw new UserError('time_in_future', `${field} cannot be in the future`, { field });
  }
}

/** Creates an incident in `analysis`; audits `incident.created`. */
export async function createIncident(
  context: ServiceContext,
  actor: Actor,
  input: CreateIncidentInput,
): Promise<Incident> {
  assertCan(actor, 'write');
  return inTransaction(context, (unit) => createIncidentIn(unit, context, actor, input));
}

/** Creates an incident inside a running unit of work (for commands that open one as a step). */
export async function createIncidentIn(
  unit: UnitOfWork,
  context: ServiceContext,
  actor: Actor,
  input: CreateIncidentInput,
  origin: Record<string, unknown> = {},
): Promise<Incident> {
  await assertAssignable(unit, actor, input.assigneeId);
  assertNotBefore('detected_at', input.detectedAt, unit.now);
  const incident: Incident = {
    id: context.newId(),
    orgId: actor.orgId,
    title: input.title,
    description: input.description ?? '',
    severity: input.severity,
    category: input.category ?? 'other',
    tlp: input.tlp ?? 'amber',
    phase: 'analysis',
    assigneeId: input.assigneeId ?? null,
    personalData: input.personalData ?? false,
    resolution: null,
    reviewSummary: null,
    phaseEnteredAt: { analysis: unit.now },
    detectedAt: input.detectedAt ?? unit.now,
    createdAt: unit.now,
    updatedAt: unit.now,
    acknowledgedAt: input.assigneeId ? unit.now : null,
    containedAt: null,
    remediatedAt: null,
    closedAt: null,
  };
  await insertIncident(unit.tx, incident);
  await unit.audit({
    actor,
    action: 'incident.created',
    targetType: 'incident',
    targetId: incident.id,
    incidentId: incident.id,
    changes: {
      ...origin,
      title: incident.title,
      severity: incident.severity,
      category: incident.category,
      tlp: incident.tlp,
      personal_data: incident.personalData,
      assignee_id: incident.assigneeId,
      detected_at: incident.detectedAt,
      description: incident.description,
    },
  });
  return incident;
}

export async function getIncident(context: ServiceContext, actor: Actor, id: string): Promise<Incident> {
  assertCan(actor, 'read');
  return requireIncident(context.database.db, actor, id);
}

export async function listIncidents(
  context: ServiceContext,
  actor: Actor,
  query: Omit<IncidentListQuery, 'orgId'>,
): Promise<Page<Incident>> {
  assertCan(actor, 'read');
  return listIncidentRows(context.database.db, context.database.dialect, { ...query, orgId: actor.orgId });
}

/**
 * Changes the editable fields; audits `incident.updated` with each field's before and after.
 * A patch that changes nothing writes nothing. A closed incident's fields are frozen (reopen first).
 */
export async function updateIncident(
  context: ServiceContext,
  actor: Actor,
  id: string,
  patch: UpdateIncidentInput,
): Promise<Incident> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    const current = await requireIncident(unit.tx, actor, id);
    const { next, changes, changed } = applyPatch(current, patch, EDITABLE_FIELDS);
    if (!changed) return current;
    if (current.phase === 'closed') {
      throw new IllegalStateError('incident_closed', 'a closed incident cannot be edited; reopen it first', {
        id,
      });
    }
    if (patch.assigneeId !== undefined) await assertAssignable(unit, actor, patch.assigneeId);
    assertNotBefore('detected_at', patch.detectedAt, unit.now);
    const updated: Incident = {
      ...next,
      acknowledgedAt: current.acknowledgedAt ?? (patch.assigneeId ? unit.now : null),
      updatedAt: unit.now,
    };
    await saveIncident(unit.tx, updated);
    await unit.audit({
      actor,
      action: 'incident.updated',
      targetType: 'incident',
      targetId: id,
      incidentId: id,
      changes,
    });
    return updated;
  });
}

/** Marks the incident acknowledged (someone owns it) if it is not yet; audits `incident.acknowledged`. */
export async function acknowledgeIncident(
  context: ServiceContext,
  actor: Actor,
  id: string,
): Promise<Incident> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    const current = await requireIncident(unit.tx, actor, id);
    if (current.acknowledgedAt) return current;
    const updated: Incident = { ...current, acknowledgedAt: unit.now, updatedAt: unit.now };
    await saveIncident(unit.tx, updated);
    await unit.audit({
      actor,
      action: 'incident.acknowledged',
      targetType: 'incident',
      targetId: id,
      incidentId: id,
      changes: {},
    });
    return updated;
  });
}

/** Moves the incident through its lifecycle (rules in core/incident-lifecycle); audits `incident.transitioned`. */
export async function transition(
  context: ServiceContext,
  actor: Actor,
  id: string,
  request: TransitionRequest,
): Promise<Incident> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    const current = await requireIncident(unit.tx, actor, id);
    const outcome = transitionIncident(current, request, new Date(unit.now));
    const updated: Incident = { ...current, ...outcome.next, updatedAt: unit.now };
    await saveIncident(unit.tx, updated);
    await unit.audit({
      actor,
      action: 'incident.transitioned',
      targetType: 'incident',
      targetId: id,
      incidentId: id,
      changes: {
        from: current.phase,
        to: updated.phase,
        direction: outcome.direction,
        reason: request.reason ?? null,
        resolution: outcome.direction === 'close' ? updated.resolution : null,
        review_summary: outcome.direction === 'close' ? updated.reviewSummary : null,
      },
    });
    return updated;
  });
}

/** The incident's audit records, oldest first: the timeline. */
export async function incidentTimeline(
  context: ServiceContext,
  actor: Actor,
  id: string,
  page: { afterSeq: number; limit: number },
): Promise<{ items: AuditEntry[]; nextAfterSeq: number | null }> {
  assertCan(actor, 'read');
  const db = context.database.db;
  await requireIncident(db, actor, id);
  const rows = await readIncidentAudit(db, actor.orgId, id, page.afterSeq, page.limit + 1);
  const items = rows.slice(0, page.limit);
  return { items, nextAfterSeq: rows.length > page.limit ? (items.at(-1)?.seq ?? null) : null };
}
