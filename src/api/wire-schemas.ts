import { z } from 'zod';
import {
  AlertStatus,
  Category,
  DismissReason,
  ObservableType,
  Phase,
  Resolution,
  Role,
  Severity,
  TaskStatus,
  Tlp,
} from './schemas.js';

/**
 * The shapes the API answers with, for the OpenAPI document. Responses are serialised with plain
 * JSON.stringify (fast); the API tests parse real responses with these schemas, so the document
 * cannot drift from what the presenters send.
 */
const Time = z.string().describe('ISO-8601 UTC');
const NullableTime = Time.nullable();

export const IncidentWire = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string(),
    severity: Severity,
    category: Category,
    tlp: Tlp,
    phase: Phase,
    assignee_id: z.string().nullable(),
    personal_data: z.boolean(),
    resolution: Resolution.nullable(),
    review_summary: z.string().nullable(),
    phase_entered_at: z.partialRecord(Phase, Time),
    detected_at: Time,
    created_at: Time,
    updated_at: Time,
    acknowledged_at: NullableTime,
    contained_at: NullableTime,
    remediated_at: NullableTime,
    closed_at: NullableTime,
    durations: z
      .object({
        to_detect_s: z.number().int().describe('earliest evidence → opened'),
        to_acknowledge_s: z.number().int().nullable().describe('opened → acknowledged'),
        to_contain_s: z.number().int().nullable().describe('opened → containment done'),
        to_remediate_s: z.number().int().nullable().describe('opened → remediation done'),
        to_close_s: z.number().int().nullable().describe('opened → closed'),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'Incident' });

export const AlertWire = z
  .object({
    id: z.string(),
    title: z.string(),
    source: z.string(),
    rule: z.string().nullable(),
    rule_id: z.string().nullable().describe('the stored detection rule that raised it'),
    severity: Severity,
    status: AlertStatus,
    dismiss_reason: DismissReason.nullable(),
    dismiss_comment: z.string().nullable(),
    dedup_key: z.string().nullable(),
    first_seen: Time,
    last_seen: Time,
    occurrence_count: z.number().int(),
    payload: z.unknown(),
    incident_id: z.string().nullable(),
    created_at: Time,
    updated_at: Time,
    description: z.string().nullable(),
    resolved_at: NullableTime.describe('when the source said the condition ended; a new firing clears it'),
  })
  .strict()
  .meta({ id: 'Alert' });

export const AlertSummaryWire = AlertWire.omit({ payload: true }).meta({ id: 'AlertSummary' });

export const ObservableWire = z
  .object({
    id: z.string(),
    type: ObservableType,
    value: z.string(),
    ioc: z.boolean(),
    tlp: Tlp,
    description: z.string(),
    sightings: z.number().int(),
    first_seen: Time,
    last_seen: Time,
    other_incidents: z
      .number()
      .int()
      .optional()
      .describe('in incident lists: how many other incidents saw it'),
  })
  .strict()
  .meta({ id: 'Observable' });

export const TaskWire = z
  .object({
    id: z.string(),
    incident_id: z.string(),
    title: z.string(),
    description: z.string(),
    status: TaskStatus,
    assignee_id: z.string().nullable(),
    position: z.number().int(),
    created_at: Time,
    updated_at: Time,
    completed_at: NullableTime,
  })
  .strict()
  .meta({ id: 'Task' });

export const NoteWire = z
  .object({
    id: z.string(),
    incident_id: z.string(),
    author: z.object({ kind: z.string(), id: z.string(), name: z.string() }).strict(),
    body: z.string().describe('Markdown'),
    created_at: Time,
    updated_at: Time,
  })
  .strict()
  .meta({ id: 'Note' });

export const UserWire = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: Role,
    disabled: z.boolean(),
    created_at: Time,
    updated_at: Time,
  })
  .strict()
  .meta({ id: 'User' });

export const TokenWire = z
  .object({
    id: z.string(),
    name: z.string(),
    user_id: z.string(),
    prefix: z.string(),
    created_at: Time,
    expires_at: NullableTime,
    last_used_at: NullableTime,
    revoked_at: NullableTime,
    token: z.string().optional().describe('the secret; only in the answer that creates the token'),
  })
  .strict()
  .meta({ id: 'ApiToken' });

export const TimelineEntryWire = z
  .object({
    seq: z.number().int(),
    at: Time,
    actor: z.object({ kind: z.string(), id: z.string(), name: z.string() }).strict(),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string() }).strict(),
    changes: z.unknown(),
    hash: z.string().describe('SHA-256 of the audit record'),
  })
  .strict()
  .meta({ id: 'TimelineEntry' });

const LookupHitWire = z
  .object({
    id: z.string(),
    title: z.string(),
    severity: z.string(),
    phase: z.string().optional(),
    status: z.string().optional(),
    seen_at: Time,
  })
  .strict();

export const LookupWire = z
  .object({
    observable: ObservableWire.nullable(),
    incidents: z.array(LookupHitWire),
    alerts: z.array(LookupHitWire),
    events: z
      .object({ count: z.number().int(), first_seen: Time, last_seen: Time, last_event_id: z.string() })
      .strict()
      .nullable()
      .describe(
        'received events that carried the value: how many and when, counted since ingestion began (the events themselves expire with retention)',
      ),
  })
  .strict()
  .meta({ id: 'ObservableLookup' });

export function pageOf<T extends z.ZodType>(item: T) {
  return z
    .object({
      items: z.array(item),
      next_cursor: z.string().nullable().describe('pass back as ?cursor= for the next page'),
    })
    .strict();
}

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item) }).strict();
}
