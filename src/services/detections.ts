import { z } from 'zod';
import { assertCan, type Actor } from '../core/actor.js';
import { UserError } from '../core/errors.js';
import type { Alert, ObservableInput } from '../core/model.js';
import { normaliseObservable } from '../core/observable.js';
import { SEVERITIES, severityRank, type ObservableType, type Severity } from '../core/vocabulary.js';
import type { AnomalyState } from '../detection/anomaly.js';
import type { CorrelationState } from '../detection/correlation.js';
import type { Detection, Detector } from '../detection/detector.js';
import { scalarText, type PreparedEvent } from '../detection/event.js';
import type { ExtractedObservable } from '../ingest/event-record.js';
import { upsertAlert } from '../storage/alert-repository.js';
import { findIncident } from '../storage/incident-repository.js';
import { recordSighting } from '../storage/observable-repository.js';
import {
  activeSuppressions,
  countSuppressionHits,
  findDedupTarget,
  findOpenIncidentForEntity,
  findPolicyJson,
  findStateJson,
  savePolicyJson,
  saveStateJson,
  type Suppression,
} from '../storage/rule-repository.js';
import type { Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { linkAlerts } from './alerts.js';
import { inTransaction, type ServiceContext, type UnitOfWork } from './context.js';
import { createIncidentIn } from './incidents.js';

/**
 * Detections become alerts, and alerts incidents, by the organisation's policy.
 *
 * - Each detection is one alert (source `sigma`, `rule_id` the stored rule, severity from the rule's
 *   level), unless a suppression in force matches it (then it is only counted on the suppression).
 * - Repeats of the same rule on the same entity within `dedup_window_seconds` of the alert's first
 *   sighting count on that alert (`occurrence_count`) instead of opening another.
 * - A new alert at or above `incident_min_severity` joins an open incident that already holds an alert
 *   of the same entity seen within `group_window_seconds`, or opens one; lower alerts wait in the
 *   triage queue (status `new`).
 */

// Policy

export interface DetectionPolicy {
  /** New alerts at or above this severity go to an incident; null: none do (all wait in triage). */
  readonly incidentMinSeverity: Severity | null;
  readonly groupWindowSeconds: number;
  readonly dedupWindowSeconds: number;
}

export const DEFAULT_DETECTION_POLICY: DetectionPolicy = {
  incidentMinSeverity: 'high',
  groupWindowSeconds: 3600,
  dedupWindowSeconds: 3600,
};

const Window = z
  .number()
  .int()
  .min(0)
  .max(30 * 86_400);
/** The stored (and wire) shape of a policy. */
export const DetectionPolicySchema = z.strictObject({
  incident_min_severity: z.enum(SEVERITIES).nullable(),
  group_window_seconds: Window,
  dedup_window_seconds: Window,
});
export type DetectionPolicyWire = z.infer<typeof DetectionPolicySchema>;

export function policyToWire(policy: DetectionPolicy): DetectionPolicyWire {
  return {
    incident_min_severity: policy.incidentMinSeverity,
    group_window_seconds: policy.groupWindowSeconds,
    dedup_window_seconds: policy.dedupWindowSeconds,
  };
}

function policyFromJson(json: string | null): DetectionPolicy {
  if (json === null) return DEFAULT_DETECTION_POLICY;
  const parsed = DetectionPolicySchema.safeParse(JSON.parse(json));
  if (!parsed.success) return DEFAULT_DETECTION_POLICY;
  return {
    incidentMinSeverity: parsed.data.incident_min_severity,
    groupWindowSeconds: parsed.data.group_window_seconds,
    dedupWindowSeconds: parsed.data.dedup_window_seconds,
  };
}

async function readPolicy(db: Kysely<Schema>, orgId: string): Promise<DetectionPolicy> {
  return policyFromJson(await findPolicyJson(db, orgId));
}

export async function getDetectionPolicy(context: ServiceContext, actor: Actor): Promise<DetectionPolicy> {
  assertCan(actor, 'read');
  return readPolicy(context.database.db, actor.orgId);
}

/** Replaces the organisation's policy (admins only); audits `detection.policy_updated`. */
export async function setDetectionPolicy(
  context: ServiceContext,
  actor: Actor,
  policy: DetectionPolicy,
): Promise<DetectionPolicy> {
  assertCan(actor, 'admin');
  return inTransaction(context, async (unit) => {
    const before = await readPolicy(unit.tx, actor.orgId);
    await savePolicyJson(unit.tx, actor.orgId, JSON.stringify(policyToWire(policy)), actor.name, unit.now);
    await unit.audit({
      actor,
      action: 'detection.policy_updated',
      targetType: 'detection_policy',
      targetId: actor.orgId,
      changes: { from: policyToWire(before), to: policyToWire(policy) },
    });
    return policy;
  });
}

// What a detection is about

/** Fields naming the entity a detection is about, in order of preference (ECS, then Windows). */
const ENTITY_FIELDS = ['user.name', 'source.ip', 'host.name', 'TargetUserName', 'IpAddress', 'Computer'];

/** Event fields holding observables (ECS names and Windows EventData names). */
const OBSERVABLE_FIELDS: ReadonlyArray<readonly [string, ObservableType]> = [
  ['source.ip', 'ip'],
  ['destination.ip', 'ip'],
  ['client.ip', 'ip'],
  ['server.ip', 'ip'],
  ['IpAddress', 'ip'],
  ['user.name', 'user'],
  ['TargetUserName', 'user'],
  ['host.name', 'host'],
  ['Computer', 'host'],
  ['file.hash.md5', 'hash_md5'],
  ['file.hash.sha1', 'hash_sha1'],
  ['file.hash.sha256', 'hash_sha256'],
  ['process.hash.md5', 'hash_md5'],
  ['process.hash.sha1', 'hash_sha1'],
  ['process.hash.sha256', 'hash_sha256'],
  ['url.original', 'url'],
  ['dns.question.name', 'domain'],
];

/** Windows writes these for "no value". */
const PLACEHOLDERS = new Set(['', '-', 'n/a', 'null']);

type FieldReader = (field: string) => unknown;

function readerOf(detection: Detection): FieldReader {
  if (detection.kind === 'correlation') return (field) => detection.match.group[field];
  if (detection.kind === 'anomaly') {
    const entity = detection.alert.entity;
    return (field) => (field in entity ? entity[field] : detection.event.get(field));
  }
  return (field) => detection.event.get(field);
}

function textOf(value: unknown): string | null {
  const text = scalarText(value);
  if (text === null) return null;
  const trimmed = text.trim();
  return PLACEHOLDERS.has(trimmed.toLowerCase()) ? null : trimmed;
}

/** `user.name=alice`: the entity a detection is about, or null when the event names none. Pure. */
export function entityOf(detection: Detection): string | null {
  let pairs: Array<[string, string]>;
  if (detection.kind === 'correlation' || detection.kind === 'anomaly') {
    const values = detection.kind === 'correlation' ? detection.match.group : detection.alert.entity;
    pairs = Object.entries(values)
      .map(([k, v]): [string, string | null] => [k, textOf(v)])
      .filter((p): p is [string, string] => p[1] !== null)
      .sort(([a], [b]) => a.localeCompare(b));
  } else {
    const read = readerOf(detection);
    pairs = [];
    for (const field of ENTITY_FIELDS) {
      const value = textOf(read(field));
      if (value !== null) {
        pairs = [[field, value]];
        break;
      }
    }
  }
  if (pairs.length === 0) return null;
  return pairs
    .map(([k, v]) => `${k}=${v.toLowerCase()}`)
    .join(',')
    .slice(0, 500);
}

/** The observables a detection's event (or correlation group) names, normalised; bad values skipped. Pure. */
export function observablesOf(
  detection: Detection,
  extra: readonly ExtractedObservable[] = [],
): ObservableInput[] {
  const read = readerOf(detection);
  const found = new Map<string, ObservableInput>();
  const add = (type: ObservableType, raw: unknown) => {
    const text = textOf(raw);
    if (text === null) return;
    try {
      const value = normaliseObservable(type, text);
      found.set(`${type}\u0000${value}`, { type, value });
    } catch {
      // A field that does not hold a valid value of its type (a Windows "-", a host name in an IP
      // field) is not an observable; the detection still stands.
    }
  };
  for (const [field, type] of OBSERVABLE_FIELDS) {
    const value = read(field);
    if (Array.isArray(value)) for (const item of value.slice(0, 20)) add(type, item);
    else add(type, value);
  }
  for (const o of extra) add(o.type, o.value);
  return [...found.values()].slice(0, 100);
}

/** A detection as the API and tests show it. */
export interface DescribedDetection {
  readonly kind: Detection['kind'];
  readonly ruleId: string;
  readonly title: string;
  readonly level: Detection['rule']['level'];
  readonly severity: Severity;
  readonly entity: string | null;
  readonly observables: readonly ObservableInput[];
  /** The event time (ISO 8601) when known. */
  readonly timestamp: string | null;
  /** For correlations and anomalies: what completed (group values, aggregate, window, baseline). */
  readonly summary: Record<string, unknown> | null;
}

function severityOf(level: Detection['rule']['level']): Severity {
  return level === 'informational' ? 'info' : level;
}

function summaryOf(detection: Detection): Record<string, unknown> | null {
  if (detection.kind === 'correlation') {
    const m = detection.match;
    return {
      group: m.group,
      value: m.value,
      events: m.events,
      first: new Date(m.first).toISOString(),
      last: new Date(m.last).toISOString(),
    };
  }
  if (detection.kind === 'anomaly') {
    const a = detection.alert;
    return {
      entity: a.entity,
      window_start: new Date(a.windowStart).toISOString(),
      value: a.value,
      median: a.median,
      mad: a.mad,
      history: a.history,
    };
  }
  return null;
}

function timeOf(detection: Detection): string | null {
  const t = detection.timestamp;
  if (t === undefined || !Number.isFinite(t)) return null;
  const date = new Date(t);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Pure. */
export function describeDetection(detection: Detection): DescribedDetection {
  return {
    kind: detection.kind,
    ruleId: detection.rule.id,
    title: detection.rule.title,
    level: detection.rule.level,
    severity: severityOf(detection.rule.level),
    entity: entityOf(detection),
    observables: observablesOf(detection),
    timestamp: timeOf(detection),
    summary: summaryOf(detection),
  };
}

// Suppressions

function suppressedBy(
  detection: Detection,
  suppressions: readonly SuppressionMatch[],
): SuppressionMatch | undefined {
  if (suppressions.length === 0) return undefined;
  const read = readerOf(detection);
  return suppressions.find((s) => {
    if (s.ruleId !== null && s.ruleId !== detection.rule.id) return false;
    const value = read(s.field);
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => {
      const text = scalarText(v);
      return text !== null && text.trim().toLowerCase() === s.value.trim().toLowerCase();
    });
  });
}

/** What a suppression needs to be matched (plain data: it crosses to the pipeline's worker thread). */
export type SuppressionMatch = Pick<Suppression, 'id' | 'ruleId' | 'field' | 'value'>;

// Recording

export interface DetectionMeta {
  /** Alert source; default `sigma`. */
  readonly source?: string | undefined;
  /**
   * What the pipeline knows about a detection's event: its id (kept in the alert payload) and the
   * observables the normaliser extracted (added to those read from the fields).
   */
  readonly describeEvent?:
    | ((event: PreparedEvent) =>
        | {
            readonly id?: string | undefined;
            readonly observables?: readonly ExtractedObservable[] | undefined;
          }
        | undefined)
    | undefined;
}

/**
 * A detection reduced to what recording it needs, as plain data: made where the detector runs (the
 * pipeline's worker thread), recorded where the database is. Pure to build (`toDetectionRecord`).
 */
export interface DetectionRecord {
  readonly rule: { readonly id: string; readonly title: string; readonly level: Detection['rule']['level'] };
  /** Set when a suppression in force matched: the detection is only counted on it. */
  readonly suppressionId: string | null;
  readonly entity: string | null;
  readonly observables: readonly ObservableInput[];
  /** Event time (ISO 8601) when known. */
  readonly timestamp: string | null;
  readonly payload: unknown;
}

/** Pure: what `recordDetectionRecordsIn` stores for a detection, suppressions already applied. */
export function toDetectionRecord(
  detection: Detection,
  suppressions: readonly SuppressionMatch[],
  meta: DetectionMeta = {},
): DetectionRecord {
  const rule = { id: detection.rule.id, title: detection.rule.title, level: detection.rule.level };
  const suppression = suppressedBy(detection, suppressions);
  if (suppression) {
    return {
      rule,
      suppressionId: suppression.id,
      entity: null,
      observables: [],
      timestamp: null,
      payload: null,
    };
  }
  const described = detection.kind === 'correlation' ? undefined : meta.describeEvent?.(detection.event);
  return {
    rule,
    suppressionId: null,
    entity: entityOf(detection),
    observables: observablesOf(detection, described?.observables ?? []),
    timestamp: timeOf(detection),
    payload: payloadOf(detection, described?.id),
  };
}

export interface RecordedDetection {
  readonly ruleId: string;
  /** `created`: a new alert; `repeated`: counted on an existing one; `suppressed`: no alert. */
  readonly outcome: 'created' | 'repeated' | 'suppressed';
  readonly alertId: string | null;
  readonly suppressionId: string | null;
  /** The incident the alert went to (opened or joined) by the policy, when it did. */
  readonly incidentId: string | null;
  readonly incidentOpened: boolean;
}

/** Who records detections: Firebreak's detection engine, as a system actor of the organisation. */
export function detectionActor(orgId: string): Actor {
  return { kind: 'system', id: 'detection', name: 'detection', orgId, role: 'admin' };
}

const MAX_PAYLOAD_CHARS = 256 * 1024;

function payloadOf(detection: Detection, eventId: string | undefined): unknown {
  const summary = summaryOf(detection);
  const rule = { id: detection.rule.id, title: detection.rule.title, level: detection.rule.level };
  if (detection.kind === 'correlation') return { rule, correlation: summary };
  let event: unknown = detection.event.raw;
  if (JSON.stringify(event).length > MAX_PAYLOAD_CHARS) event = { truncated: true };
  return {
    rule,
    ...(eventId !== undefined ? { event_id: eventId } : {}),
    event,
    ...(summary ? { anomaly: summary } : {}),
  };
}

const earlier = (a: string, b: string): string => (a < b ? a : b);

/**
 * Records the detections of a batch of events inside the caller's unit of work, so the pipeline can
 * commit the alerts and its spool position together. Never call it inside another `inTransaction`
 * of the same unit's context from within (pass the unit). Returns one outcome per detection, in order.
 */
export async function recordDetectionsIn(
  unit: UnitOfWork,
  context: ServiceContext,
  orgId: string,
  detections: readonly Detection[],
  meta: DetectionMeta = {},
): Promise<RecordedDetection[]> {
  if (detections.length === 0) return [];
  const suppressions = await activeSuppressions(unit.tx, orgId, unit.now);
  return recordDetectionRecordsIn(
    unit,
    context,
    orgId,
    detections.map((d) => toDetectionRecord(d, suppressions, meta)),
    meta.source,
  );
}

/**
 * Records detections already reduced to records (`toDetectionRecord`), in the caller's unit of work:
 * suppressed ones count on their suppression, the others become or repeat alerts and go to incidents
 * by the organisation's policy. Returns one outcome per record, in order.
 */
export async function recordDetectionRecordsIn(
  unit: UnitOfWork,
  context: ServiceContext,
  orgId: string,
  records: readonly DetectionRecord[],
  source = 'sigma',
): Promise<RecordedDetection[]> {
  if (records.length === 0) return [];
  const actor = detectionActor(orgId);
  const policy = await readPolicy(unit.tx, orgId);
  const hits = new Map<string, number>();
  const out: RecordedDetection[] = [];
  for (const record of records) {
    const ruleId = record.rule.id;
    if (record.suppressionId !== null) {
      hits.set(record.suppressionId, (hits.get(record.suppressionId) ?? 0) + 1);
      out.push({
        ruleId,
        outcome: 'suppressed',
        alertId: null,
        suppressionId: record.suppressionId,
        incidentId: null,
        incidentOpened: false,
      });
      continue;
    }
    const severity = severityOf(record.rule.level);
    const { entity, observables } = record;
    // Event time, never later than now (a sender's clock ahead of ours must not date alerts ahead).
    const seenAt = earlier(record.timestamp ?? unit.now, unit.now);
    const since = new Date(Date.parse(seenAt) - policy.dedupWindowSeconds * 1000).toISOString();
    const dedupKey =
      (policy.dedupWindowSeconds > 0
        ? await findDedupTarget(unit.tx, orgId, ruleId, entity, since, seenAt)
        : null) ?? `rule:${ruleId}:${entity ?? '-'}:${seenAt}:${context.newId()}`;
    const { alert, created } = await upsertAlert(unit.tx, {
      id: context.newId(),
      orgId,
      title: record.rule.title,
      source,
      rule: ruleId,
      ruleId,
      entity,
      severity,
      dedupKey,
      seenAt,
      payload: record.payload,
      now: unit.now,
    });
    for (const observable of created ? observables : []) {
      await recordSighting(unit.tx, context.newId, { orgId, ...observable, seenAt, alertId: alert.id });
    }
    await unit.audit({
      actor,
      action: created ? 'alert.created' : 'alert.repeated',
      targetType: 'alert',
      targetId: alert.id,
      incidentId: alert.incidentId,
      changes: created
        ? {
            title: alert.title,
            severity: alert.severity,
            source: alert.source,
            rule: alert.rule,
            rule_id: ruleId,
            entity,
            dedup_key: alert.dedupKey,
            observables,
          }
        : { occurrence_count: alert.occurrenceCount, seen_at: seenAt },
    });
    let incidentId = alert.incidentId;
    let incidentOpened = false;
    if (
      created &&
      policy.incidentMinSeverity !== null &&
      severityRank(severity) >= severityRank(policy.incidentMinSeverity)
    ) {
      const grouped = await groupAlert(unit, context, actor, alert, entity, seenAt, policy);
      incidentId = grouped.incidentId;
      incidentOpened = grouped.opened;
    }
    out.push({
      ruleId,
      outcome: created ? 'created' : 'repeated',
      alertId: alert.id,
      suppressionId: null,
      incidentId,
      incidentOpened,
    });
  }
  for (const [id, n] of hits) await countSuppressionHits(unit.tx, orgId, id, n, unit.now);
  return out;
}

async function groupAlert(
  unit: UnitOfWork,
  context: ServiceContext,
  actor: Actor,
  alert: Alert,
  entity: string | null,
  seenAt: string,
  policy: DetectionPolicy,
): Promise<{ incidentId: string; opened: boolean }> {
  if (entity !== null && policy.groupWindowSeconds > 0) {
    const since = new Date(Date.parse(seenAt) - policy.groupWindowSeconds * 1000).toISOString();
    const openId = await findOpenIncidentForEntity(unit.tx, actor.orgId, entity, since);
    const open = openId ? await findIncident(unit.tx, actor.orgId, openId) : null;
    if (open) {
      await linkAlerts(unit, context, actor, open, [alert.id]);
      return { incidentId: open.id, opened: false };
    }
  }
  const incident = await createIncidentIn(
    unit,
    context,
    actor,
    {
      title: entity ? `${alert.title} (${entity})` : alert.title,
      severity: alert.severity,
      description: [
        `Opened by the detection policy from alert "${alert.title}"`,
        `rule: ${alert.ruleId ?? alert.rule ?? ''}`,
        entity ? `entity: ${entity}` : null,
      ]
        .filter(Boolean)
        .join('\n\n'),
      detectedAt: earlier(alert.firstSeen, unit.now),
    },
    { from_alert: alert.id, rule_id: alert.ruleId },
  );
  await linkAlerts(unit, context, actor, incident, [alert.id]);
  return { incidentId: incident.id, opened: true };
}

/** `recordDetectionsIn` in a transaction of its own. */
export async function recordDetections(
  context: ServiceContext,
  orgId: string,
  detections: readonly Detection[],
  meta: DetectionMeta = {},
): Promise<RecordedDetection[]> {
  if (detections.length === 0) return [];
  return inTransaction(context, (unit) => recordDetectionsIn(unit, context, orgId, detections, meta));
}

// Checkpointed state

/** The state of an organisation's Detector: correlation windows and anomaly baselines, JSON-safe. */
export interface DetectionState {
  readonly version: 1;
  /** The ActiveRuleSet key the state was taken with (informational: state of removed rules is ignored). */
  readonly ruleSetKey: string | null;
  readonly correlations: CorrelationState;
  /** By anomaly rule id. */
  readonly anomalies: Readonly<Record<string, AnomalyState>>;
}

/** Takes the detector's state. Pure apart from reading the detector. */
export function exportDetectorState(detector: Detector, ruleSetKey: string | null = null): DetectionState {
  const anomalies: Record<string, AnomalyState> = {};
  for (const [id, anomaly] of detector.anomalies) anomalies[id] = anomaly.exportState();
  return { version: 1, ruleSetKey, correlations: detector.correlations.exportState(), anomalies };
}

/**
 * Restores state into a (possibly rebuilt) detector: correlations and anomaly rules that no longer
 * exist are ignored, new ones start empty.
 */
export function importDetectorState(detector: Detector, state: DetectionState): void {
  if (state.version !== 1)
    throw new UserError(
      'detection_state_invalid',
      `unsupported detection state version ${String(state.version)}`,
    );
  detector.correlations.importState(state.correlations);
  for (const [id, anomaly] of detector.anomalies) {
    const saved = state.anomalies[id];
    if (saved) anomaly.importState(saved);
  }
}

/** Checkpoints the state inside the caller's unit of work (with the spool position). Not audited. */
export async function saveDetectionState(
  unit: UnitOfWork,
  orgId: string,
  state: DetectionState,
): Promise<void> {
  await saveStateJson(unit.tx, orgId, JSON.stringify(state), unit.now);
}

/** The last checkpointed state of the organisation, or null when none was saved. */
export async function loadDetectionState(
  context: ServiceContext,
  orgId: string,
): Promise<DetectionState | null> {
  const json = await findStateJson(context.database.db, orgId);
  return json === null ? null : (JSON.parse(json) as DetectionState);
}
