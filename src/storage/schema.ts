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
  /** The stored detection rule that raised it (rules.id), for per-rule statistics. */
  rule_id: string | null;
  /** What the detection was about (`user.name=alice`), for dedup and grouping; null for other alerts. */
  entity: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  description: string | null;
  /** When the source said the condition ended (Alertmanager `resolved`); null while it lasts. */
  resolved_at: Timestamp | null;
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

export interface EventTable {
  id: string;
  org_id: string;
  received_at: Timestamp;
  timestamp: Timestamp;
  source_kind: string;
  source_name: string | null;
  source_peer: string | null;
  format: string;
  parser: string;
  message: string | null;
  /** Normalised fields (flat dotted ECS keys), JSON. */
  fields: string;
  /** As received: the text, or the JSON document when `raw_is_json` is 1. */
  raw: string;
  raw_is_json: Flag;
}

/** An event submission that carried an idempotency key (see migration 2026112709). */
export interface IngestSubmissionTable {
  org_id: string;
  key: string;
  events: number;
  received_at: Timestamp;
}

export interface EventSightingTable {
  org_id: string;
  type: string;
  value: string;
  first_seen: Timestamp;
  last_seen: Timestamp;
  count: ColumnType<number, number, number>;
  last_event_id: string;
}

export interface DetectionListTable {
  org_id: string;
  name: string;
  description: string;
  /** JSON array of strings. */
  entries: string;
  updated_by: string;
  updated_at: Timestamp;
}

export interface IngestCheckpointTable {
  consumer: string;
  position: ColumnType<number, number, number>;
  updated_at: Timestamp;
}

/** An alert webhook integration; only the SHA-256 of its token is kept. */
export interface IntegrationTable {
  id: string;
  org_id: string;
  type: string;
  name: string;
  /** The generic integration's mapping, JSON; null for the others. */
  mapping: string | null;
  token_hash: string;
  token_prefix: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_used_at: Timestamp | null;
  disabled_at: Timestamp | null;
}

/** A detection rule of an organisation (one YAML document), at its current version. */
export interface RuleTable {
  org_id: string;
  /** The Sigma `id`, or a generated UUID when the document has none. */
  id: string;
  /** sigma | correlation | filter | anomaly */
  kind: string;
  name: string | null;
  title: string;
  /** The level the YAML declares (medium when it declares none). */
  level: string;
  level_override: string | null;
  enabled: Flag;
  yaml: string;
  version: number;
  content_hash: string;
  updated_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Every version a rule has had, the current one included. */
export interface RuleVersionTable {
  org_id: string;
  rule_id: string;
  version: number;
  title: string;
  level: string;
  yaml: string;
  content_hash: string;
  updated_by: string;
  created_at: Timestamp;
}

/** Detections whose event has `field` = `value` (of one rule, or of any) raise no alert until expiry. */
export interface SuppressionTable {
  id: string;
  org_id: string;
  rule_id: string | null;
  field: string;
  value: string;
  reason: string;
  /** null: permanent. */
  expires_at: Timestamp | null;
  created_by_kind: string;
  created_by_id: string;
  created_by_name: string;
  created_at: Timestamp;
  hit_count: ColumnType<number, number | undefined, number>;
  last_hit_at: Timestamp | null;
}

export interface DetectionPolicyTable {
  org_id: string;
  /** JSON (services/detections.ts DetectionPolicy). */
  policy: string;
  updated_by: string;
  updated_at: Timestamp;
}

/** The checkpointed correlation and anomaly state of an organisation's detector, JSON. */
export interface DetectionStateTable {
  org_id: string;
  state: string;
  updated_at: Timestamp;
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
  rules: RuleTable;
  rule_versions: RuleVersionTable;
  suppressions: SuppressionTable;
  detection_policies: DetectionPolicyTable;
  detection_state: DetectionStateTable;
  integrations: IntegrationTable;
  events: EventTable;
  ingest_checkpoints: IngestCheckpointTable;
  event_sightings: EventSightingTable;
  detection_lists: DetectionListTable;
  ingest_submissions: IngestSubmissionTable;
}
