import type { AuditEntry } from '../core/audit-chain.js';
import { incidentDurations, type IncidentDurations } from '../core/incident-metrics.js';
import type { Alert, AlertSummary, ApiToken, Incident, Note, Observable, Task, User } from '../core/model.js';
import type { LookupHit } from '../storage/observable-repository.js';

/** Presenters: the only way out to the wire (snake_case), so storage and domain names can change freely. */

export function presentIncident(incident: Incident) {
  return {
    id: incident.id,
    title: incident.title,
    description: incident.description,
    severity: incident.severity,
    category: incident.category,
    tlp: incident.tlp,
    phase: incident.phase,
    assignee_id: incident.assigneeId,
    personal_data: incident.personalData,
    resolution: incident.resolution,
    review_summary: incident.reviewSummary,
    phase_entered_at: incident.phaseEnteredAt,
    detected_at: incident.detectedAt,
    created_at: incident.createdAt,
    updated_at: incident.updatedAt,
    acknowledged_at: incident.acknowledgedAt,
    contained_at: incident.containedAt,
    remediated_at: incident.remediatedAt,
    closed_at: incident.closedAt,
    durations: presentDurations(incidentDurations(incident)),
  };
}

function presentDurations(d: IncidentDurations) {
  return {
    to_detect_s: d.toDetect,
    to_acknowledge_s: d.toAcknowledge,
    to_contain_s: d.toContain,
    to_remediate_s: d.toRemediate,
    to_close_s: d.toClose,
  };
}

export function presentAlertSummary(alert: AlertSummary) {
  return {
    id: alert.id,
    title: alert.title,
    source: alert.source,
    rule: alert.rule,
    rule_id: alert.ruleId,
    severity: alert.severity,
    status: alert.status,
    dismiss_reason: alert.dismissReason,
    dismiss_comment: alert.dismissComment,
    dedup_key: alert.dedupKey,
    first_seen: alert.firstSeen,
    last_seen: alert.lastSeen,
    occurrence_count: alert.occurrenceCount,
    incident_id: alert.incidentId,
    created_at: alert.createdAt,
    updated_at: alert.updatedAt,
    description: alert.description,
    resolved_at: alert.resolvedAt,
  };
}

export function presentAlert(alert: Alert) {
  return { ...presentAlertSummary(alert), payload: alert.payload };
}

export function presentObservable(observable: Observable & { otherIncidents?: number }) {
  return {
    id: observable.id,
    type: observable.type,
    value: observable.value,
    ioc: observable.ioc,
    tlp: observable.tlp,
    description: observable.description,
    sightings: observable.sightings,
    first_seen: observable.firstSeen,
    last_seen: observable.lastSeen,
    ...(observable.otherIncidents === undefined ? {} : { other_incidents: observable.otherIncidents }),
  };
}

export function presentLookupHit(hit: LookupHit) {
  return {
    id: hit.id,
    title: hit.title,
    severity: hit.severity,
    [hit.kind === 'incident' ? 'phase' : 'status']: hit.state,
    seen_at: hit.seenAt,
  };
}

export function presentTask(task: Task) {
  return {
    id: task.id,
    incident_id: task.incidentId,
    title: task.title,
    description: task.description,
    status: task.status,
    assignee_id: task.assigneeId,
    position: task.position,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
    completed_at: task.completedAt,
  };
}

export function presentNote(note: Note) {
  return {
    id: note.id,
    incident_id: note.incidentId,
    author: { kind: note.authorKind, id: note.authorId, name: note.authorName },
    body: note.body,
    created_at: note.createdAt,
    updated_at: note.updatedAt,
  };
}

export function presentUser(user: User) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    disabled: user.disabled,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
  };
}

export function presentToken(token: ApiToken) {
  return {
    id: token.id,
    name: token.name,
    user_id: token.userId,
    prefix: token.prefix,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    last_used_at: token.lastUsedAt,
    revoked_at: token.revokedAt,
  };
}

export function presentAuditEntry(entry: AuditEntry) {
  return {
    seq: entry.seq,
    at: entry.at,
    actor: { kind: entry.actorKind, id: entry.actorId, name: entry.actorName },
    action: entry.action,
    target: { type: entry.targetType, id: entry.targetId },
    changes: JSON.parse(entry.changes) as unknown,
    hash: entry.hash,
  };
}
