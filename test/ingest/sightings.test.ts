import { describe, expect, it } from 'vitest';
import { ObservableMemo, sightingsOf, type PipelineItem } from '../../src/ingest/batch-core.js';
import type { ExtractedObservable } from '../../src/ingest/event-record.js';

let position = 0;
function item(
  orgId: string,
  id: string,
  timestamp: string,
  observables: ExtractedObservable[],
): PipelineItem {
  position++;
  return {
    position,
    event: {
      id,
      orgId,
      receivedAt: '2026-03-01T10:00:00.000Z',
      source: { kind: 'syslog' },
      format: 'syslog',
      raw: 'x',
    },
    normalised: { timestamp, parser: 'test', fields: {}, observables },
  };
}

describe('sightingsOf', () => {
  it('counts each normalised value once per organisation and type, with its first and last time and last event', () => {
    const sightings = sightingsOf([
      item('org-a', 'e1', '2026-03-01T09:00:02.000Z', [
        { type: 'ip', value: '203.0.113.9' },
        { type: 'user', value: 'Root' },
      ]),
      item('org-a', 'e2', '2026-03-01T09:00:01.000Z', [{ type: 'ip', value: '203.0.113.9' }]),
      item('org-a', 'e3', '2026-03-01T09:00:03.000Z', [
        { type: 'ip', value: '203.0.113.9' },
        { type: 'ip', value: 'not an address' },
      ]),
      item('org-b', 'e4', '2026-03-01T09:00:00.000Z', [{ type: 'ip', value: '203.0.113.9' }]),
      // Same text, other type: its own sighting.
      item('org-a', 'e5', '2026-03-01T09:00:00.000Z', [{ type: 'host', value: '203.0.113.9' }]),
    ]);
    const find = (org: string, type: string, value: string) =>
      sightings.find((s) => s.orgId === org && s.type === type && s.value === value);
    expect(find('org-a', 'ip', '203.0.113.9')).toEqual({
      orgId: 'org-a',
      type: 'ip',
      value: '203.0.113.9',
      firstSeen: '2026-03-01T09:00:01.000Z',
      lastSeen: '2026-03-01T09:00:03.000Z',
      count: 3,
      lastEventId: 'e3',
    });
    expect(find('org-b', 'ip', '203.0.113.9')?.count).toBe(1);
    expect(find('org-a', 'host', '203.0.113.9')?.count).toBe(1);
    expect(find('org-a', 'user', 'root') ?? find('org-a', 'user', 'Root')).toMatchObject({ count: 1 });
    // The value that does not normalise is skipped, nothing else.
    expect(sightings).toHaveLength(4);
  });

  it('gives the same answers from a memo that outlives batches and after the memo reached its bound', () => {
    const memo = new ObservableMemo(2);
    const batch = [
      item('o', 'e1', '2026-03-01T09:00:00.000Z', [
        { type: 'ip', value: '198.51.100.1' },
        { type: 'ip', value: '198.51.100.2' },
        { type: 'ip', value: '198.51.100.3' },
        { type: 'ip', value: 'bad' },
      ]),
    ];
    const fresh = sightingsOf(batch);
    expect(sightingsOf(batch, memo)).toEqual(fresh);
    expect(sightingsOf(batch, memo)).toEqual(fresh);
    expect(fresh.map((s) => s.value)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
  });
});
