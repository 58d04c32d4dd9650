/**
 * Suricata EVE JSON (one record, an array of records, or NDJSON as eve.json is written).
 * `event_type: "alert"` records become Firebreak alerts; every other record (flow, dns, http, tls,
 * anomaly, fileinfo, ...) is an event for the ingestion pipeline. Pure.
 */
import { z } from 'zod';
import type { Severity } from '../core/vocabulary.js';
import type { ExtractedObservable } from '../ingest/event-record.js';
import { clip, isRecord, issueError, MAX_TITLE, own, toIsoTime, withinDepth } from './common.js';
import { addressOrName, each } from './observables.js';
import type { ItemError, MapContext, MappedItem, MapResult } from './types.js';

/** Repeats of a signature between the same two addresses within this window count on one alert. */
export const SURICATA_DEDUP_WINDOW_MINUTES = 60;

const Record = z.looseObject({ event_type: z.string().trim().min(1).max(100) });

const AlertRecord = z.looseObject({
  event_type: z.literal('alert'),
  timestamp: z.string().max(64).optional(),
  src_ip: z.string().max(100).optional(),
  dest_ip: z.string().max(100).optional(),
  alert: z.looseObject({
    signature: z.string().trim().min(1).max(2_000),
    signature_id: z.number().int().nonnegative(),
    gid: z.number().int().nonnegative().optional(),
    rev: z.number().int().nonnegative().optional(),
    severity: z.number().int().optional(),
    category: z.string().max(500).optional(),
    action: z.string().max(50).optional(),
  }),
});

/** Pure. Suricata's priority (`alert.severity`): 1 → high, 2 → medium, 3 → low, anything else → info. */
export function suricataSeverity(priority: number | undefined): Severity {
  switch (priority) {
    case 1:
      return 'high';
    case 2:
      return 'medium';
    case 3:
      return 'low';
    default:
      return 'info';
  }
}

/**
 * Pure. Maps EVE records; `documents` are the parsed items of the body with their index. A record
 * that is not an object, has no `event_type`, or is an alert without `alert.signature` /
 * `alert.signature_id` is an item error naming the field.
 */
export function mapSuricata(
  documents: ReadonlyArray<{ readonly index: number; readonly value: unknown }>,
  context: MapContext,
): MapResult {
  const items: MappedItem[] = [];
  const errors: ItemError[] = [];
  for (const { index, value } of documents) {
    if (!isRecord(value)) {
      errors.push({ index, code: 'invalid_item', message: 'an EVE record must be a JSON object' });
      continue;
    }
    if (!withinDepth(value)) {
      errors.push({ index, code: 'too_deep', message: 'the record nests too deeply' });
      continue;
    }
    const record = Record.safeParse(value);
    if (!record.success) {
      errors.push(issueError(index, record.error));
      continue;
    }
    if (record.data.event_type !== 'alert') {
      items.push({ kind: 'event', index, format: 'suricata', raw: value });
      continue;
    }
    const parsed = AlertRecord.safeParse(value);
    if (!parsed.success) {
      errors.push(issueError(index, parsed.error));
      continue;
    }
    const eve = parsed.data;
    const seenAt = toIsoTime(eve.timestamp);
    const gid = eve.alert.gid ?? 1;
    items.push({
      kind: 'alert',
      index,
      alert: {
        title: clip(eve.alert.signature, MAX_TITLE),
        severity: suricataSeverity(eve.alert.severity),
        source: `suricata:${context.integrationName}`,
        rule: `${gid}:${eve.alert.signature_id}${eve.alert.rev === undefined ? '' : `:${eve.alert.rev}`}`,
        dedupKey: suricataDedupKey(
          gid,
          eve.alert.signature_id,
          eve.src_ip,
          eve.dest_ip,
          seenAt ?? context.now,
        ),
        seenAt,
        description: eve.alert.category,
        observables: eveObservables(value),
        payload: value,
      },
    });
  }
  return { items, errors };
}

/**
 * `suricata:<gid>:<sid>:<address>|<address>:<window start>`: the two addresses sorted (both
 * directions of a conversation meet), the window the UTC start of the event's hour-long bucket.
 */
export function suricataDedupKey(
  gid: number,
  sid: number,
  src: string | undefined,
  dest: string | undefined,
  at: string,
): string {
  const pair = [src ?? '-', dest ?? '-'].sort().join('|');
  const windowMs = SURICATA_DEDUP_WINDOW_MINUTES * 60_000;
  const start = new Date(Math.floor(new Date(at).getTime() / windowMs) * windowMs).toISOString();
  return `suricata:${gid}:${sid}:${pair}:${start}`;
}

/** Addresses, HTTP host, DNS names, TLS SNI and file hashes an EVE record carries. */
export function eveObservables(record: Readonly<Record<string, unknown>>): ExtractedObservable[] {
  const out: ExtractedObservable[] = [];
  out.push(...addressOrName(own(record, 'src_ip'), 'host'), ...addressOrName(own(record, 'dest_ip'), 'host'));
  const http = own(record, 'http');
  out.push(...addressOrName(own(http, 'hostname'), 'domain'));
  const dns = own(record, 'dns');
  out.push(...each('domain', own(dns, 'rrname')));
  for (const list of [own(dns, 'query'), own(dns, 'queries'), own(dns, 'answers')]) {
    if (Array.isArray(list))
      for (const entry of list.slice(0, 100)) out.push(...each('domain', own(entry, 'rrname')));
  }
  out.push(...each('domain', own(own(record, 'tls'), 'sni')));
  const file = own(record, 'fileinfo');
  out.push(
    ...each('hash_md5', own(file, 'md5')),
    ...each('hash_sha1', own(file, 'sha1')),
    ...each('hash_sha256', own(file, 'sha256')),
    ...each('filename', own(file, 'filename')),
  );
  return out;
}
