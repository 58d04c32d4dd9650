import { describe, expect, it } from 'vitest';
import { mapWebhook } from '../../src/integrations/index.js';
import { wazuhSeverity } from '../../src/integrations/wazuh.js';
import { WAZUH_SYSCHECK, wazuhAlert } from './fixtures.js';

const context = { integrationId: 'int-3', integrationName: 'wazuh-prod', now: '2026-03-01T09:00:00.000Z' };
const wazuh = { type: 'wazuh' as const, mapping: null };

describe('Wazuh alert mapper', () => {
  it('maps an sshd brute-force alert with its observables', () => {
    const { items, errors } = mapWebhook(wazuh, JSON.stringify(wazuhAlert()), context);
    expect(errors).toEqual([]);
    const [item] = items;
    if (item?.kind !== 'alert') throw new Error('expected an alert');
    expect(item.alert).toMatchObject({
      title: 'sshd: brute force trying to get access to the system. Non existent user.',
      severity: 'high',
      source: 'wazuh:wazuh-prod',
      rule: '5712',
      dedupKey: 'wazuh:5712:003:198.51.100.23',
      seenAt: '2026-03-01T08:20:11.512Z',
    });
    expect(item.alert.observables).toEqual([
      { type: 'ip', value: '198.51.100.23' },
      { type: 'user', value: 'admin' },
      { type: 'host', value: 'web-01' },
      { type: 'ip', value: '10.0.0.21' },
    ]);
  });

  it('takes syscheck hashes and the file path; a missing source address keys as "-"', () => {
    const [item] = mapWebhook(wazuh, JSON.stringify(WAZUH_SYSCHECK), context).items;
    if (item?.kind !== 'alert') throw new Error('expected an alert');
    expect(item.alert.dedupKey).toBe('wazuh:550:003:-');
    expect(item.alert.severity).toBe('medium');
    expect(item.alert.observables).toEqual(
      expect.arrayContaining([
        { type: 'hash_md5', value: WAZUH_SYSCHECK.syscheck.md5_after },
        { type: 'hash_sha1', value: WAZUH_SYSCHECK.syscheck.sha1_after },
        { type: 'hash_sha256', value: WAZUH_SYSCHECK.syscheck.sha256_after },
        { type: 'filename', value: '/etc/passwd' },
      ]),
    );
  });

  it('maps rule levels 0-15 through the table', () => {
    const table = Array.from({ length: 16 }, (_, level) => wazuhSeverity(level));
    expect(table).toEqual([
      'info',
      'info',
      'info',
      'info',
      'low',
      'low',
      'low',
      'medium',
      'medium',
      'medium',
      'high',
      'high',
      'high',
      'critical',
      'critical',
      'critical',
    ]);
  });

  it('names the missing field of a bad alert and keeps the good ones (NDJSON)', () => {
    const bad = wazuhAlert({ rule: { level: 5, id: '1' } });
    const body = [
      JSON.stringify(wazuhAlert()),
      JSON.stringify(bad),
      JSON.stringify({ rule: { level: 99, description: 'x', id: 1 } }),
    ].join('\n');
    const { items, errors } = mapWebhook(wazuh, body, context);
    expect(items.map((i) => i.index)).toEqual([0]);
    expect(errors).toEqual([
      expect.objectContaining({ index: 1, field: 'rule.description' }),
      expect.objectContaining({ index: 2, field: 'rule.level' }),
    ]);
  });
});
