/**
 * The console's only way to the server: the public API under /api/v1, with the session cookie (sent by
 * the browser) and, on writes, the session's CSRF token in X-CSRF-Token.
 */
import type {
  AlertStatus,
  DismissReason,
  IncidentCategory,
  ObservableType,
  Role,
  Severity,
  Tlp,
} from '../../src/core/vocabulary.js';
import type { Phase } from '../../src/core/incident-lifecycle.js';

export const API = '/api/v1';

/** An error answer of the API: `code` is stable, `message` is for people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken = '';
let onUnauthenticated: (error: ApiError) => void = () => undefined;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when any request answers 401 (expired or ended session): the app goes back to sign-in. */
export function setUnauthenticatedHandler(handler: (error: ApiError) => void): void {
  onUnauthenticated = handler;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly body?: unknown;
  readonly query?: Record<string, string | number | boolean | readonly string[] | undefined | null>;
  /** Leave a 401 to the caller (the sign-in form and the first session probe). */
  readonly quiet401?: boolean;
  readonly signal?: AbortSignal;
}

export function buildQuery(query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      if (value.length > 0) params.set(key, value.join(','));
    } else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Sends one API request; resolves with the parsed JSON (undefined for 204), rejects with ApiError. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`${API}${path}${buildQuery(options.query)}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? null : JSON.stringify(options.body),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError(0, 'network_error', 'The server cannot be reached. Check your connection.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const body = (json as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
    const retry = Number(response.headers.get('retry-after'));
    const error = new ApiError(
      response.status,
      body?.code ?? `http_${response.status}`,
      body?.message ?? `The server answered ${response.status}.`,
      body?.field,
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
    if (response.status === 401 && !options.quiet401) onUnauthenticated(error);
    throw error;
  }
  return json as T;
}

/** Plain words for an error, for a toast or a form. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'forbidden') return 'Your role does not allow this.';
    return error.message.charAt(0).toUpperCase() + error.message.slice(1);
  }
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

// ---- Wire types (snake_case, as docs/api.md describes them) ----

export type { AlertStatus, DismissReason, IncidentCategory, ObservableType, Phase, Role, Severity, Tlp };

export interface Page<T> {
  readonly items: T[];
  readonly next_cursor: string | null;
}

export interface User {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly disabled: boolean;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface SessionInfo {
  readonly actor: {
    readonly kind: string;
    readonly id: string;
    readonly name: string;
    readonly role: Role;
    readonly user_id: string | null;
  };
  readonly via: string;
  readonly csrf_token: string | null;
  readonly expires_at: string | null;
}

export interface LoginAnswer {
  readonly user: User;
  readonly csrf_token: string;
  readonly expires_at: string;
}

export interface Durations {
  readonly to_detect_s: number;
  readonly to_acknowledge_s: number | null;
  readonly to_contain_s: number | null;
  readonly to_remediate_s: number | null;
  readonly to_close_s: number | null;
}

export interface Incident {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly severity: Severity;
  readonly category: IncidentCategory;
  readonly tlp: Tlp;
  readonly phase: Phase;
  readonly assignee_id: string | null;
  readonly personal_data: boolean;
  readonly resolution: string | null;
  readonly review_summary: string | null;
  readonly phase_entered_at: Partial<Record<Phase, string>>;
  readonly detected_at: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly acknowledged_at: string | null;
  readonly contained_at: string | null;
  readonly remediated_at: string | null;
  readonly closed_at: string | null;
  readonly durations: Durations;
}

export interface AlertSummary {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  readonly rule: string | null;
  readonly severity: Severity;
  readonly status: AlertStatus;
  readonly dismiss_reason: DismissReason | null;
  readonly dismiss_comment: string | null;
  readonly dedup_key: string | null;
  readonly first_seen: string;
  readonly last_seen: string;
  readonly occurrence_count: number;
  readonly incident_id: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface Observable {
  readonly id: string;
  readonly type: ObservableType;
  readonly value: string;
  readonly ioc: boolean;
  readonly tlp: Tlp;
  readonly description: string;
  readonly sightings: number;
  readonly first_seen: string;
  readonly last_seen: string;
  readonly other_incidents?: number;
}

export interface Alert extends AlertSummary {
  readonly payload: unknown;
  readonly observables: Observable[];
}

export interface TimelineEntry {
  readonly seq: number;
  readonly at: string;
  readonly actor: { readonly kind: string; readonly id: string; readonly name: string };
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  readonly changes: unknown;
  readonly hash: string;
}

export interface Task {
  readonly id: string;
  readonly incident_id: string;
  readonly title: string;
  readonly description: string;
  readonly status: 'open' | 'done';
  readonly assignee_id: string | null;
  readonly position: number;
  readonly created_at: string;
  readonly updated_at: string;
  readonly completed_at: string | null;
}

export interface Note {
  readonly id: string;
  readonly incident_id: string;
  readonly author: { readonly kind: string; readonly id: string; readonly name: string };
  readonly body: string;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface LookupHit {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly phase?: Phase;
  readonly status?: AlertStatus;
  readonly seen_at: string;
}

export interface Lookup {
  readonly observable: Observable | null;
  readonly incidents: LookupHit[];
  readonly alerts: LookupHit[];
}

export interface ApiToken {
  readonly id: string;
  readonly name: string;
  readonly user_id: string;
  readonly prefix: string;
  readonly created_at: string;
  readonly expires_at: string | null;
  readonly last_used_at: string | null;
  readonly revoked_at: string | null;
  /** Only in the answer that issues it. */
  readonly token?: string;
}

export interface Percentiles {
  readonly count: number;
  readonly median_s: number | null;
  readonly p90_s: number | null;
}

/** GET /stats/overview */
export interface StatsOverview {
  readonly generated_at: string;
  readonly open_incidents: {
    readonly total: number;
    readonly by_severity_phase: { severity: Severity; phase: Phase; count: number }[];
  };
  readonly alerts_waiting: {
    readonly total: number;
    readonly by_severity: { severity: Severity; count: number }[];
    readonly by_rule: { rule: string | null; count: number }[];
    readonly by_source: { source: string; count: number }[];
  };
  readonly weekly: {
    readonly week_start: string;
    readonly opened: number;
    readonly closed: number;
    readonly to_acknowledge: Percentiles;
    readonly to_close: Percentiles;
  }[];
  readonly period: {
    readonly from: string;
    readonly opened: number;
    readonly closed: number;
    readonly to_acknowledge: Percentiles;
    readonly to_close: Percentiles;
  };
}

/** A received event (GET /events). */
export interface EventRecord {
  readonly id: string;
  readonly received_at: string;
  readonly timestamp: string;
  readonly source: { readonly kind: string; readonly name: string | null; readonly peer: string | null };
  readonly format: string;
  readonly parser: string;
  readonly fields: Record<string, unknown>;
  readonly raw: string | Record<string, unknown>;
}

export type RuleLevel = 'informational' | 'low' | 'medium' | 'high' | 'critical';
export type RuleKind = 'sigma' | 'correlation' | 'filter' | 'anomaly';

export interface Rule {
  readonly id: string;
  readonly kind: RuleKind;
  readonly name: string | null;
  readonly title: string;
  readonly level: RuleLevel;
  readonly level_override: RuleLevel | null;
  readonly effective_level: RuleLevel;
  readonly severity: Severity;
  readonly enabled: boolean;
  readonly version: number;
  readonly content_hash: string;
  readonly updated_by: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly stats: {
    readonly alerts: number;
    readonly occurrences: number;
    readonly false_positives: number;
    readonly closed: number;
    readonly false_positive_share: number;
    readonly last_match_at: string | null;
  };
}

export interface RuleDetail extends Rule {
  readonly yaml: string;
  readonly versions: {
    readonly version: number;
    readonly title: string;
    readonly level: RuleLevel;
    readonly yaml: string;
    readonly content_hash: string;
    readonly updated_by: string;
    readonly created_at: string;
  }[];
}

export interface RuleSubmission {
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly failed: number;
  readonly results: {
    readonly file: string | null;
    readonly document: number;
    readonly status: 'created' | 'updated' | 'unchanged' | 'failed';
    readonly id: string | null;
    readonly title: string | null;
    readonly version: number | null;
    readonly error: { readonly code: string; readonly message: string; readonly field: string | null } | null;
  }[];
}

export interface RuleTest {
  readonly matched: boolean;
  readonly selected_rules: string[];
  readonly detections: {
    readonly kind: string;
    readonly rule_id: string;
    readonly title: string;
    readonly level: RuleLevel;
    readonly severity: Severity;
    readonly entity: string | null;
    readonly observables: { type: ObservableType; value: string }[];
    readonly timestamp: string | null;
    readonly summary: Record<string, unknown> | null;
  }[];
  readonly explanation: string | null;
}

export interface DetectionPolicy {
  readonly incident_min_severity: Severity | null;
  readonly group_window_seconds: number;
  readonly dedup_window_seconds: number;
}

export interface Suppression {
  readonly id: string;
  readonly rule_id: string | null;
  readonly field: string;
  readonly value: string;
  readonly reason: string;
  readonly expires_at: string | null;
  readonly owner: { readonly kind: string; readonly id: string; readonly name: string };
  readonly created_at: string;
  readonly hit_count: number;
  readonly last_hit_at: string | null;
}

export type IntegrationType = 'alertmanager' | 'suricata' | 'wazuh' | 'generic';

export interface Integration {
  readonly id: string;
  readonly type: IntegrationType;
  readonly name: string;
  readonly url: string;
  readonly token_prefix: string;
  readonly mapping: unknown;
  readonly created_at: string;
  readonly updated_at: string;
  readonly last_used_at: string | null;
  readonly disabled_at: string | null;
  /** Only in the answers that create or rotate it. */
  readonly token?: string;
}
