import type { ColumnType } from 'kysely';

/**
 * Row shapes as the database holds them (snake_case). Timestamps are ISO-8601 UTC strings on the
 * way out of both engines (SQLite stores text; PostgreSQL stores timestamptz and the driver is told
 * to return ISO text). Booleans are 0/1 integers on both, JSON documents are text.
 */
type Timestamp = string;
type Flag = number;

export interface OrganizationTable {
  id: string;
  name: string;
  slug: string;
  created_at: Timestamp;
}

export interface UserTable {
  id: string;
  org_id: string;
  email: string;
  name: string;
  role: string;
  password_hash: string | null;
  disabled: Flag;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SessionTable {
  id: string;
  org_id: string;
  user_id: string;
  token_hash: string;
  csrf_token: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  last_seen_at: Timestamp;
}

export interface ApiTokenTable {
  id: string;
  org_id: string;
  user_id: string;
  name: string;
  prefix: string;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface IncidentTable {
  id: string;
  org_id: string;
  title: string;
  description: string;
  severity: string;
  severity_rank: number;
  category: string;
  tlp: string;
  phase: string;
  assignee_id: string | null;
  personal_data: Flag;
  resolution: string | null;
  review_summary: string | null;
  phase_entered_at: string;
  detected_at: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  acknowledged_at: Timestamp | null;
  contained_at: Timestamp | null;
  remediated_at: Timestamp | null;
  closed_at: Timestamp | null;
}

export interface AlertTable {
  id: string;
  org_id: string;
  title: string;
  source: string;
  rule: string | null;
  severity: string;
  severity_rank: number;
  status: string;
  dismiss_reason: string | null;
  dismiss_comment: string | null;
  dedup_key: string | null;
  first_seen: Timestamp;
  last_seen: Timestamp;
  occurrence_count: number;
  payload: string | null;
  incident_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ObservableTable {
  id: string;
  org_id: string;
  type: string;
  value: string;
  ioc: Flag;
  tlp: string;
  description: string;
  sightings: number;
  first_seen: Timestamp;
  last_seen: Timestamp;
}

/** One row per (observable, incident) or (observable, alert): where a value was seen. */
export interface ObservableLinkTable {
  id: string;
  org_id: string;
  observable_id: string;
  incident_id: string | null;
  alert_id: string | null;
  created_at: Timestamp;
}

export interface TaskTable {
  id: string;
  org_id: string;
  incident_id: string;
  title: string;
  description: string;
  status: string;
  assignee_id: string | null;
  position: number;
  created_at: Timestamp;
  updated_at: Timestamp;
  completed_at: Timestamp | null;
}

export interface NoteTable {
  id: string;
  org_id: string;
  incident_id: string;
  author_kind: string;
  author_id: string;
  author_name: string;
  body: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AuditLogTable {
  id: string;
  org_id: string;
  seq: ColumnType<number, number, never>;
  at: Timestamp;
  actor_kind: string;
  actor_id: string;
  actor_name: string;
  action: string;
  target_type: string;
  target_id: string;
  incident_id: string | null;
  changes: string;
  prev_hash: string;
  hash: string;
}

/** The last record of each organisation's chain; locked while appending so appends serialise. */
export interface AuditHeadTable {
  org_id: string;
  seq: number;
  hash: string;
}

export interface Schema {
  organizations: OrganizationTable;
  users: UserTable;
  sessions: SessionTable;
  api_tokens: ApiTokenTable;
  incidents: IncidentTable;
  alerts: AlertTable;
  observables: ObservableTable;
  observable_links: ObservableLinkTable;
  tasks: TaskTable;
  notes: NoteTable;
  audit_log: AuditLogTable;
  audit_heads: AuditHeadTable;
}
