/**
 * Wazuh alerts as the manager writes them (`alerts.json`, one JSON object per alert; an integration
 * script posts one at a time, a shipper may post arrays or NDJSON). Pure.
 */
import { z } from 'zod';
import type { Severity } from '../core/vocabulary.js';
import type { ExtractedObservable } from '../ingest/event-record.js';
import { clip, isRecord, issueError, MAX_TITLE, own, text, toIsoTime, withinDepth } from './common.js';
import { each } from './observables.js';
import type { ItemError, MapContext, MappedItem, MapResult } from './types.js';

const WazuhAlert = z.looseObject({
  timestamp: z.string().max(64).optional(),
  rule: z.looseObject({
    level: z.number().int().min(0).max(16),
    description: z.string().trim().min(1).max(2_000),
    id: z.union([z.string().trim().min(1).max(50), z.number().int().nonnegative()]),
  }),
  agent: z
    .looseObject({ id: z.string().max(50).optional(), name: z.string().max(500).optional() })
    .optional(),
  full_log: z.string().max(100_000).optional(),
});

/**
 * Pure. Wazuh rule level → severity: 0-3 info, 4-6 low, 7-9 medium, 10-12 high, 13-15 critical
 * (Wazuh's own scale: 12 "high importance event", 15 "severe attack"; 16 is treated as 15).
 */
export function wazuhSeverity(level: number): Severity {
  if (level >= 13) return 'critical';
  if (level >= 10) return 'high';
  if (level >= 7) return 'medium';
  if (level >= 4) return 'low';
  return 'info';
}

/** Pure. Maps Wazuh alerts; an item without `rule.level`, `rule.description` or `rule.id` is an item error. */
export function mapWazuh(
  documents: ReadonlyArray<{ readonly index: number; readonly value: unknown }>,
  context: MapContext,
): MapResult {
  const items: MappedItem[] = [];
  const errors: ItemError[] = [];
  for (const { index, value } of documents) {
    if (!isRecord(value)) {
      errors.push({ index, code: 'invalid_item', message: 'a Wazuh alert must be a JSON object' });
      continue;
    }
    if (!withinDepth(value)) {
      errors.push({ index, code: 'too_deep', message: 'the alert nests too deeply' });
      continue;
    }
    const parsed = WazuhAlert.safeParse(value);
    if (!parsed.success) {
      errors.push(issueError(index, parsed.error));
      continue;
    }
    const alert = parsed.data;
    const data = own(value, 'data');
    const srcip = text(own(data, 'srcip'));
    const ruleId = String(alert.rule.id);
    items.push({
      kind: 'alert',
      index,
      alert: {
        title: clip(alert.rule.description, MAX_TITLE),
        severity: wazuhSeverity(alert.rule.level),
        source: `wazuh:${context.integrationName}`,
        rule: ruleId,
        dedupKey: wazuhDedupKey(ruleId, text(alert.agent?.id), srcip),
        seenAt: toIsoTime(alert.timestamp),
        description: alert.full_log === undefined ? undefined : clip(alert.full_log, 10_000),
        observables: wazuhObservables(value),
        payload: value,
      },
    });
  }
  return { items, errors };
}

/** `wazuh:<rule.id>:<agent.id>:<data.srcip>`, `-` for a missing part. */
export function wazuhDedupKey(
  ruleId: string,
  agentId: string | undefined,
  srcip: string | undefined,
): string {
  return `wazuh:${ruleId}:${agentId ?? '-'}:${srcip ?? '-'}`;
}

function wazuhObservables(alert: Readonly<Record<string, unknown>>): ExtractedObservable[] {
  const data = own(alert, 'data');
  const agent = own(alert, 'agent');
  const syscheck = own(alert, 'syscheck');
  return [
    ...each('ip', own(data, 'srcip')),
    ...each('ip', own(data, 'dstip')),
    ...each('user', own(data, 'srcuser')),
    ...each('user', own(data, 'dstuser')),
    ...each('host', own(agent, 'name')),
    ...each('ip', own(agent, 'ip')),
    ...each('hash_md5', own(syscheck, 'md5_after')),
    ...each('hash_sha1', own(syscheck, 'sha1_after')),
    ...each('hash_sha256', own(syscheck, 'sha256_after')),
    ...each('filename', own(syscheck, 'path')),
  ];
}
