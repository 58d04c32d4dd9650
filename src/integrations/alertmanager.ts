/**
 * Prometheus Alertmanager webhook (payload `version: "4"`). One notification carries a group of
 * alerts; each becomes, or counts on, one Firebreak alert keyed by Alertmanager's fingerprint, and a
 * `resolved` alert resolves it. Pure.
 */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { Severity } from '../core/vocabulary.js';
import type { ExtractedObservable } from '../ingest/event-record.js';
import {
  clip,
  earlier,
  issueError,
  MAX_DESCRIPTION,
  MAX_ITEMS,
  MAX_TITLE,
  pathText,
  severityFromWord,
  text,
  toIsoTime,
  withinDepth,
} from './common.js';
import { fromEndpoint } from './observables.js';
import type { ItemError, MapContext, MappedItem, MapResult } from './types.js';

/** Used when `labels.severity` is missing or a word the table does not know. */
export const ALERTMANAGER_DEFAULT_SEVERITY: Severity = 'medium';

const Strings = z.record(z.string().max(1_000), z.string().max(100_000));

const Envelope = z.object({
  version: z.literal('4', { message: 'only Alertmanager webhook payload version "4" is understood' }),
  groupKey: z.string().max(100_000),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(1_000).optional(),
  externalURL: z.string().max(8_192).optional(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  alerts: z.array(z.unknown()).max(MAX_ITEMS),
});

const AlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: Strings,
  annotations: Strings.optional(),
  startsAt: z.string().max(64).optional(),
  endsAt: z.string().max(64).optional(),
  generatorURL: z.string().max(8_192).optional(),
  fingerprint: z.string().trim().min(1).max(200).optional(),
});

/** Label names whose values name the machine the alert is about. */
const HOST_LABELS = ['instance', 'host', 'hostname', 'nodename', 'node'] as const;

/**
 * Pure. Maps one Alertmanager notification. Throws UserError `invalid_payload` (naming the field)
 * when the envelope is not a version 4 notification; a malformed alert inside it is an item error
 * (index = its position in `alerts`) while the others are kept.
 */
export function mapAlertmanager(body: unknown, context: MapContext): MapResult {
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    const field = pathText(issue?.path ?? []) || 'body';
    throw new UserError('invalid_payload', `${field}: ${issue?.message ?? 'invalid'}`, { field });
  }
  const { receiver, groupKey, externalURL, alerts } = envelope.data;
  const items: MappedItem[] = [];
  const errors: ItemError[] = [];
  alerts.forEach((raw, index) => {
    if (!withinDepth(raw)) {
      errors.push({
        index,
        code: 'too_deep',
        message: 'the alert nests too deeply',
        field: `alerts[${index}]`,
      });
      return;
    }
    const parsed = AlertSchema.safeParse(raw);
    if (!parsed.success) {
      errors.push(issueError(index, parsed.error, ['alerts', index]));
      return;
    }
    const alert = parsed.data;
    const dedupKey = `alertmanager:${alert.fingerprint ?? `labels:${labelsFingerprint(alert.labels)}`}`;
    if (alert.status === 'resolved') {
      const endsAt = toIsoTime(alert.endsAt) ?? context.now;
      items.push({ kind: 'resolve', index, dedupKey, resolvedAt: earlier(endsAt, context.now) });
      return;
    }
    const annotations = alert.annotations ?? {};
    const title =
      text(annotations.summary) ??
      text(annotations.title) ??
      text(alert.labels.alertname) ??
      'Alertmanager alert';
    const description = text(annotations.description) ?? text(annotations.message);
    items.push({
      kind: 'alert',
      index,
      alert: {
        title: clip(title, MAX_TITLE),
        severity: alertmanagerSeverity(alert.labels),
        source: `alertmanager:${context.integrationName}`,
        rule: text(alert.labels.alertname)?.slice(0, 500),
        dedupKey,
        seenAt: toIsoTime(alert.startsAt),
        description: description === undefined ? undefined : clip(description, MAX_DESCRIPTION),
        observables: labelObservables(alert.labels),
        payload: { receiver, groupKey, externalURL, alert: raw },
      },
    });
  });
  return { items, errors };
}

/** Pure. `labels.severity` (or `labels.priority`) through the severity word table; medium otherwise. */
export function alertmanagerSeverity(labels: Readonly<Record<string, string>>): Severity {
  return (
    severityFromWord(labels.severity) ?? severityFromWord(labels.priority) ?? ALERTMANAGER_DEFAULT_SEVERITY
  );
}

function labelObservables(labels: Readonly<Record<string, string>>): ExtractedObservable[] {
  return HOST_LABELS.flatMap((name) => (Object.hasOwn(labels, name) ? fromEndpoint(labels[name]) : []));
}

/**
 * Alertmanager before 0.20 sent no fingerprint: identify the alert by its label set instead
 * (FNV-1a 64 over the sorted `name=value` pairs), which is what Alertmanager's fingerprint hashes too.
 */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((name) => `${name}\u0000${labels[name]}`)
    .join('\u0001');
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (const byte of new TextEncoder().encode(canonical)) {
    hash ^= BigInt(byte);
    hash = (hash * prime) & mask;
  }
  return hash.toString(16).padStart(16, '0');
}
