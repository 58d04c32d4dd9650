import { describe, expect, it } from 'vitest';
import { incidentDurations } from './incident-metrics.js';

describe('incident durations', () => {
  it('measures each milestone from opening, and detection from the earliest evidence', () => {
    expect(
      incidentDurations({
        detectedAt: '2026-01-01T08:00:00.000Z',
        createdAt: '2026-01-01T09:00:00.000Z',
        acknowledgedAt: '2026-01-01T09:05:00.400Z',
        containedAt: '2026-01-01T11:00:00.000Z',
        remediatedAt: null,
        closedAt: null,
      }),
    ).toEqual({ toDetect: 3600, toAcknowledge: 300, toContain: 7200, toRemediate: null, toClose: null });
  });

  it('never reports a negative duration', () => {
    const d = incidentDurations({
      detectedAt: '2026-01-01T10:00:00.000Z',
      createdAt: '2026-01-01T09:00:00.000Z',
      acknowledgedAt: null,
      containedAt: null,
      remediatedAt: null,
      closedAt: null,
    });
    expect(d.toDetect).toBe(0);
  });
});
