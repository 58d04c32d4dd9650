import { describe, expect, it } from 'vitest';
import { mapWebhook } from '../../src/integrations/index.js';
import { suricataDedupKey, suricataSeverity } from '../../src/integrations/suricata.js';
import { EVE_DNS, EVE_FLOW, eveAlert } from './fixtures.js';

const context = { integrationId: 'int-2', integrationName: 'ids-1', now: '2026-03-01T09:00:00.000Z' };
const suricata = { type: 'suricata' as const, mapping: null };
const ndjson = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('Suricata EVE mapper', () => {
  it('turns alert records into alerts and everything else into events (NDJSON)', () => {
    const { items, errors } = mapWebhook(suricata, ndjson(EVE_DNS, eveAlert(), EVE_FLOW), context);
    expect(errors).toEqual([]);
    expect(items.map((i) => [i.index, i.kind])).toEqual([
      [0, 'event'],
      [1, 'alert'],
      [2, 'event'],
    ]);
    expect(items[0]).toMatchObject({ kind: 'event', format: 'suricata', raw: EVE_DNS });
    const alert = items[1];
    if (alert?.kind !== 'alert') throw new Error('expected an alert');
    expect(alert.alert).toMatchObject({
      title: 'ET USER_AGENTS Go HTTP Client User-Agent',
      severity: 'medium',
      source: 'suricata:ids-1',
      rule: '1:2024897:3',
      seenAt: '2026-03-01T08:15:42.123Z',
      description: 'Potentially Bad Traffic',
      dedupKey: 'suricata:1:2024897:10.0.0.20|203.0.113.50:2026-03-01T08:00:00.000Z',
    });
    expect(alert.alert.observables).toEqual([
      { type: 'ip', value: '203.0.113.50' },
      { type: 'ip', value: '10.0.0.20' },
      { type: 'domain', value: 'intranet.example.com' },
    ]);
  });

  it('reads a single object and a JSON array too', () => {
    expect(mapWebhook(suricata, JSON.stringify(eveAlert()), context).items).toHaveLength(1);
    const array = mapWebhook(suricata, JSON.stringify([eveAlert(), EVE_FLOW]), context);
    expect(array.items.map((i) => i.kind)).toEqual(['alert', 'event']);
  });

  it('extracts DNS names, TLS SNI and file hashes', () => {
    const record = eveAlert({
      http: undefined,
      dns: { query: [{ rrname: 'c2.example.net', rrtype: 'A' }], answers: [{ rrname: 'cdn.example.net' }] },
      tls: { sni: 'login.example.org', version: 'TLS 1.3' },
      fileinfo: {
        filename: '/payload.exe',
        md5: '44d88612fea8a8f36de82e1278abb02f',
        sha256: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
      },
    });
    const [item] = mapWebhook(suricata, JSON.stringify(record), context).items;
    if (item?.kind !== 'alert') throw new Error('expected an alert');
    expect(item.alert.observables).toEqual(
      expect.arrayContaining([
        { type: 'domain', value: 'c2.example.net' },
        { type: 'domain', value: 'cdn.example.net' },
        { type: 'domain', value: 'login.example.org' },
        { type: 'hash_md5', value: '44d88612fea8a8f36de82e1278abb02f' },
        { type: 'hash_sha256', value: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f' },
        { type: 'filename', value: '/payload.exe' },
      ]),
    );
  });

  it('maps priorities 1-3 and anything else', () => {
    expect([1, 2, 3, 4, 255, undefined].map(suricataSeverity)).toEqual([
      'high',
      'medium',
      'low',
      'info',
      'info',
      'info',
    ]);
  });

  it('keys repeats by signature and address pair (either direction) within the hour', () => {
    const a = suricataDedupKey(1, 5, '10.0.0.1', '10.0.0.2', '2026-03-01T08:00:01.000Z');
    expect(suricataDedupKey(1, 5, '10.0.0.2', '10.0.0.1', '2026-03-01T08:59:59.000Z')).toBe(a);
    expect(suricataDedupKey(1, 5, '10.0.0.1', '10.0.0.2', '2026-03-01T09:00:00.000Z')).not.toBe(a);
    expect(suricataDedupKey(1, 6, '10.0.0.1', '10.0.0.2', '2026-03-01T08:00:01.000Z')).not.toBe(a);
    expect(suricataDedupKey(1, 5, '10.0.0.1', '10.0.0.3', '2026-03-01T08:00:01.000Z')).not.toBe(a);
  });

  it('reports bad lines by index and keeps the rest', () => {
    const body = [
      JSON.stringify(eveAlert()),
      '{"event_type": "alert", "alert": {"signature_id": 1}}',
      'not json at all',
      '42',
      '{"timestamp": "x"}',
      '',
      JSON.stringify(EVE_FLOW),
    ].join('\n');
    const { items, errors } = mapWebhook(suricata, body, context);
    expect(items.map((i) => i.index)).toEqual([0, 5]);
    expect(errors).toEqual([
      expect.objectContaining({ index: 1, field: 'alert.signature' }),
      expect.objectContaining({ index: 2, code: 'invalid_json' }),
      expect.objectContaining({ index: 3, code: 'invalid_item' }),
      expect.objectContaining({ index: 4, field: 'event_type' }),
    ]);
  });

  it('refuses hostile nesting without overflowing the stack', () => {
    const deep = `{"event_type":"flow","x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const { items, errors } = mapWebhook(suricata, deep, context);
    expect(items).toEqual([]);
    expect(errors).toEqual([expect.objectContaining({ index: 0, code: 'too_deep' })]);
  });
});
