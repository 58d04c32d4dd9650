/**
 * The closed vocabularies Firebreak records speak. Each is a const tuple so the same list drives
 * TypeScript types, validation schemas, database checks and the OpenAPI document.
 */

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** Numeric rank for sorting: info = 0 ... critical = 4. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Traffic Light Protocol 2.0 labels. */
export const TLPS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type Tlp = (typeof TLPS)[number];

export const INCIDENT_CATEGORIES = [
  'ransomware',
  'malware',
  'data_breach',
  'unauthorised_access',
  'account_compromise',
  'denial_of_service',
  'phishing',
  'insider_misuse',
  'system_failure',
  'other',
] as const;
export type IncidentCategory = (typeof INCIDENT_CATEGORIES)[number];

export const ALERT_STATUSES = ['new', 'acknowledged', 'escalated', 'dismissed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const DISMISS_REASONS = [
  'false_positive',
  'benign',
  'duplicate',
  'expected_activity',
  'other',
] as const;
export type DismissReason = (typeof DISMISS_REASONS)[number];

/** How an incident closed straight from analysis ended. */
export const ANALYSIS_RESOLUTIONS = ['false_positive', 'duplicate', 'benign'] as const;
export type AnalysisResolution = (typeof ANALYSIS_RESOLUTIONS)[number];

export const OBSERVABLE_TYPES = [
  'ip',
  'domain',
  'url',
  'email',
  'hash_md5',
  'hash_sha1',
  'hash_sha256',
  'filename',
  'host',
  'user',
  'process',
  'registry',
  'other',
] as const;
export type ObservableType = (typeof OBSERVABLE_TYPES)[number];

export const ROLES = ['admin', 'responder', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const TASK_STATUSES = ['open', 'done'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
