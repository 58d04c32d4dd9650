import type { Phase } from '../core/incident-lifecycle.js';
import type {
  Alert,
  AlertSummary,
  ApiToken,
  Incident,
  Note,
  Observable,
  Organization,
  Task,
  User,
} from '../core/model.js';
import type {
  AlertStatus,
  AnalysisResolution,
  DismissReason,
  IncidentCategory,
  ObservableType,
  Role,
  Severity,
  TaskStatus,
  Tlp,
} from '../core/vocabulary.js';
import type { Selectable } from 'kysely';
import type { Schema } from './schema.js';

/** Named mappings from rows to domain records: the only place that knows both shapes. */

type Row<T extends keyof Schema> = Selectable<Schema[T]>;

export function organizationFromRow(row: Row<'organizations'>): Organization {
  return { id: row.id, name: row.name, slug: row.slug, createdAt: row.created_at };
}

export function userFromRow(row: Row<'users'>): User {
  return {
    id: row.id,
    orgId: row.org_id,
    email: row.email,
    name: row.name,
    role: row.role as Role,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function incidentFromRow(row: Row<'incidents'>): Incident {
  return {
    id: row.id,
    orgId: row.org_id,
    title: row.title,
    description: row.description,
    severity: row.severity as Severity,
    category: row.category as IncidentCategory,
    tlp: row.tlp as Tlp,
    phase: row.phase as Phase,
    assigneeId: row.assignee_id,
    personalData: row.personal_data === 1,
    resolution: row.resolution as AnalysisResolution | null,
    reviewSummary: row.review_summary,
    phaseEnteredAt: JSON.parse(row.phase_entered_at) as Partial<Record<Phase, string>>,
    detectedAt: row.detected_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    acknowledgedAt: row.acknowledged_at,
    containedAt: row.contained_at,
    remediatedAt: row.remediated_at,
    closedAt: row.closed_at,
  };
}

export function alertSummaryFromRow(row: Omit<Row<'alerts'>, 'payload'>): AlertSummary {
  return {
    id: row.id,
    orgId: row.org_id,
    title: row.title,
    source: row.source,
    rule: row.rule,
    ruleId: row.rule_id,
    severity: row.severity as Severity,
    status: row.status as AlertStatus,
    dismissReason: row.dismiss_reason as DismissReason | null,
    dismissComment: row.dismiss_comment,
    dedupKey: row.dedup_key,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    occurrenceCount: row.occurrence_count,
    incidentId: row.incident_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    description: row.description,
    resolvedAt: row.resolved_at,
  };
}

export function alertFromRow(row: Row<'alerts'>): Alert {
  return {
    ...alertSummaryFromRow(row),
    payload: row.payload === null ? null : (JSON.parse(row.payload) as unknown),
  };
}

export function observableFromRow(row: Row<'observables'>): Observable {
  return {
    id: row.id,
    orgId: row.org_id,
    type: row.type as ObservableType,
    value: row.value,
    ioc: row.ioc === 1,
    tlp: row.tlp as Tlp,
    description: row.description,
    sightings: row.sightings,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
  };
}

export function taskFromRow(row: Row<'tasks'>): Task {
  return {
    id: row.id,
    orgId: row.org_id,
    incidentId: row.incident_id,
    title: row.title,
    description: row.description,
    status: row.status as TaskStatus,
    assigneeId: row.assignee_id,
    position: row.position,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

export function noteFromRow(row: Row<'notes'>): Note {
  return {
    id: row.id,
    orgId: row.org_id,
    incidentId: row.incident_id,
    authorKind: row.author_kind,
    authorId: row.author_id,
    authorName: row.author_name,
    body: row.body,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function apiTokenFromRow(row: Row<'api_tokens'>): ApiToken {
  return {
    id: row.id,
    orgId: row.org_id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
