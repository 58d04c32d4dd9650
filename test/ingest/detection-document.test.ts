import { describe, expect, it } from 'vitest';
import { detectionDocument } from '../../src/ingest/detection-document.js';

describe('the detection document', () => {
  it('gives Linux events product linux without storing it, and never overwrites an event of its own', () => {
    const event = {
      id: 'e',
      orgId: 'o',
      receivedAt: '2026-11-27T00:00:00.000Z',
      source: { kind: 'syslog' as const },
      format: 'syslog' as const,
      raw: 'x',
    };
    const fields: Record<string, unknown> = { 'user.name': 'root' };
    const doc = detectionDocument(event, {
      timestamp: event.receivedAt,
      parser: 'openssh',
      fields,
      observables: [],
    });
    expect(doc['product']).toBe('linux');
    expect(JSON.parse(JSON.stringify(fields))).toEqual({ 'user.name': 'root' });
    const own: Record<string, unknown> = { product: 'nginx' };
    const copy = detectionDocument(event, {
      timestamp: event.receivedAt,
      parser: 'syslog',
      fields: own,
      observables: [],
    });
    expect(copy['product']).toBe('linux');
    expect(own['product']).toBe('nginx');
    const windows = detectionDocument(
      { ...event, raw: { Event: { System: { EventID: 4625 } } } },
      { timestamp: event.receivedAt, parser: 'windows', fields: { 'event.code': '4625' }, observables: [] },
    );
    expect(windows).toMatchObject({
      product: 'windows',
      Event: { System: { EventID: 4625 } },
      'event.code': '4625',
    });
  });
});
