import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import {
  alertmanagerSeverity,
  labelsFingerprint,
  mapAlertmanager,
} from '../../src/integrations/alertmanager.js';
import { mapWebhook } from '../../src/integrations/index.js';
import { notification } from './fixtures.js';

const context = { integrationId: 'int-1', integrationName: 'prod-am', now: '2026-03-01T09:00:00.000Z' };

describe('Alertmanager webhook mapper', () => {
  it('maps a firing alert and a resolution, keyed by fingerprint', () => {
    const { items, errors } = mapAlertmanager(notification(), context);
    expect(errors).toEqual([]);
    expect(items).toHaveLength(2);
    const [firing, resolved] = items;
    expect(firing).toMatchObject({
      kind: 'alert',
      index: 0,
      alert: {
        title: 'BlackBox probe failure: https://server.example.org',
        severity: 'critical',
        source: 'alertmanager:prod-am',
        rule: 'ProbeFailure',
        dedupKey: 'alertmanager:1a30ba71cca2921f',
        seenAt: '2026-03-01T07:52:26.739Z',
        description: 'Instance has been down for over 5m.',
      },
    });
    if (firing?.kind !== 'alert') throw new Error('expected an alert');
    expect(firing.alert.observables).toEqual([
      { type: 'url', value: 'https://server.example.org' },
      { type: 'domain', value: 'server.example.org' },
    ]);
    expect(firing.alert.payload).toMatchObject({
      receiver: 'firebreak',
      externalURL: 'http://alertmanager.example.org:9093',
      alert: { fingerprint: '1a30ba71cca2921f' },
    });
    expect(resolved).toEqual({
      kind: 'resolve',
      index: 1,
      dedupKey: 'alertmanager:bc97ff14869b13e3',
      resolvedAt: '2026-03-01T08:30:00.500Z',
    });
  });

  it('falls back to the alert name for the title, and reads host:port instances', () => {
    const body = notification({
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HighLoad', instance: '10.0.0.7:9100' },
          startsAt: '2026-03-01T08:00:00Z',
          fingerprint: 'ffff',
        },
      ],
    });
    const [item] = mapAlertmanager(body, context).items;
    if (item?.kind !== 'alert') throw new Error('expected an alert');
    expect(item.alert.title).toBe('HighLoad');
    expect(item.alert.severity).toBe('medium');
    expect(item.alert.observables).toEqual([{ type: 'ip', value: '10.0.0.7' }]);
  });

  it('never dates a resolution in the future, and keys alerts without fingerprint by their labels', () => {
    const body = notification({
      alerts: [
        { status: 'resolved', labels: { alertname: 'A', job: 'x' }, endsAt: '2030-01-01T00:00:00Z' },
        { status: 'firing', labels: { job: 'x', alertname: 'A' } },
      ],
    });
    const [resolve, firing] = mapAlertmanager(body, context).items;
    expect(resolve).toMatchObject({ kind: 'resolve', resolvedAt: context.now });
    const key = `alertmanager:labels:${labelsFingerprint({ alertname: 'A', job: 'x' })}`;
    expect(resolve).toMatchObject({ dedupKey: key });
    expect(firing).toMatchObject({ kind: 'alert', alert: { dedupKey: key, seenAt: undefined } });
    expect(labelsFingerprint({ alertname: 'A', job: 'y' })).not.toBe(
      labelsFingerprint({ alertname: 'A', job: 'x' }),
    );
  });

  it('maps severities through the table', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ severity: 'critical' }, 'critical'],
      [{ severity: 'page' }, 'critical'],
      [{ severity: 'ERROR' }, 'high'],
      [{ severity: 'warning' }, 'medium'],
      [{ severity: 'minor' }, 'low'],
      [{ severity: 'info' }, 'info'],
      [{ priority: 'P1' }, 'critical'],
      [{ severity: 'whatever' }, 'medium'],
      [{}, 'medium'],
    ];
    for (const [labels, expected] of cases) expect(alertmanagerSeverity(labels)).toBe(expected);
  });

  it('refuses a body that is not a version 4 notification, naming the field', () => {
    const call = () => mapAlertmanager(notification({ version: '3' }), context);
    expect(call).toThrow(UserError);
    try {
      call();
    } catch (error) {
      expect((error as UserError).code).toBe('invalid_payload');
      expect((error as UserError).details.field).toBe('version');
    }
    expect(() => mapAlertmanager([notification()], context)).toThrow(UserError);
    expect(() => mapWebhook({ type: 'alertmanager', mapping: null }, '{"version":', context)).toThrow(
      expect.objectContaining({ code: 'invalid_json' }),
    );
  });

  it('reports a malformed alert by index and keeps the others', () => {
    const body = notification();
    const alerts = [...body.alerts, { status: 'firing', labels: { alertname: 7 } }, 'nonsense'];
    const { items, errors } = mapAlertmanager({ ...body, alerts }, context);
    expect(items).toHaveLength(2);
    expect(errors).toEqual([
      expect.objectContaining({ index: 2, code: 'invalid_item', field: 'alerts[2].labels.alertname' }),
      expect.objectContaining({ index: 3, code: 'invalid_item', field: 'alerts[3]' }),
    ]);
  });

  it('does not read labels inherited through __proto__', () => {
    const raw = JSON.parse(
      '{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","fingerprint":"f1","labels":{"__proto__":{"severity":"critical"},"alertname":"X"}}]}',
    ) as unknown;
    const [item] = mapAlertmanager(raw, context).items;
    expect(item).toMatchObject({ kind: 'alert', alert: { severity: 'medium', title: 'X' } });
  });
});
