import { describe, expect, it } from 'vitest';
import {
  AnomalyDetector,
  hourOfWeek,
  parseAnomalySpec,
  robustBaseline,
  type AnomalyAlert,
} from '../../src/detection/anomaly.js';
import { Detector } from '../../src/detection/detector.js';
import type { SigmaRuleError } from '../../src/detection/errors.js';
import { prepareEvent } from '../../src/detection/event.js';
import { ruleSetFrom } from './helpers.js';

const HOUR = 3_600_000;
const MONDAY = Date.parse('2024-01-01T00:00:00Z'); // a Monday
const rule = { id: 'a-1', title: 'anomaly', level: 'high' as const };

/** Feeds `count` events for `user` spread inside the hour starting at `hourStart`. */
function feed(
  d: AnomalyDetector,
  user: string,
  hourStart: number,
  count: number,
  extra: Record<string, unknown> = {},
): AnomalyAlert[] {
  const out: AnomalyAlert[] = [];
  for (let i = 0; i < count; i++)
    out.push(
      ...d.observe(prepareEvent({ user, ...extra }), hourStart + Math.floor((i * HOUR) / Math.max(count, 1))),
    );
  return out;
}

describe('robust baseline', () => {
  it('computes median and MAD, resistant to outliers', () => {
    expect(robustBaseline([1, 2, 3, 4, 1000])).toEqual({ median: 3, mad: 1 });
    expect(robustBaseline([5, 5, 5, 5])).toEqual({ median: 5, mad: 0 });
    expect(hourOfWeek(MONDAY + 9 * HOUR)).toBe(9);
    expect(hourOfWeek(MONDAY + 6 * 24 * HOUR + 3 * HOUR)).toBe(6 * 24 + 3);
  });
});

describe('anomaly baselines', () => {
  const spec = parseAnomalySpec({
    entity: 'user',
    metric: 'count',
    window: '1h',
    history: '2d',
    min_history: 24,
    threshold: { factor: 3, mad: 5, min_value: 20 },
  });

  it('learns a per-entity baseline and alerts once when a window far exceeds it', () => {
    const d = new AnomalyDetector(rule, spec);
    const alerts: AnomalyAlert[] = [];
    for (let h = 0; h < 30; h++) {
      alerts.push(...feed(d, 'alice', MONDAY + h * HOUR, 8 + (h % 3)));
      alerts.push(...feed(d, 'bob', MONDAY + h * HOUR, 60 + (h % 5)));
    }
    expect(alerts).toEqual([]);
    // alice exports 100 events in one hour: an alert, once; bob's 64 is his normal
    const spike = feed(d, 'alice', MONDAY + 30 * HOUR, 100);
    expect(spike).toHaveLength(1);
    expect(spike[0]!.entity).toEqual({ user: 'alice' });
    expect(spike[0]!.median).toBe(9);
    expect(spike[0]!.value).toBeGreaterThanOrEqual(27); // fires as soon as thresholds hold
    expect(spike[0]!.value).toBeLessThan(100);
    expect(feed(d, 'bob', MONDAY + 30 * HOUR, 64)).toEqual([]);
  });

  it('waits for enough history and respects the absolute floor', () => {
    const d = new AnomalyDetector(rule, spec);
    for (let h = 0; h < 10; h++) feed(d, 'alice', MONDAY + h * HOUR, 2);
    expect(feed(d, 'alice', MONDAY + 10 * HOUR, 100)).toEqual([]); // only 10 windows of history
    const floor = new AnomalyDetector(rule, { ...spec, minValue: 1000 });
    for (let h = 0; h < 30; h++) feed(floor, 'alice', MONDAY + h * HOUR, 2);
    expect(feed(floor, 'alice', MONDAY + 30 * HOUR, 100)).toEqual([]);
  });

  it('counts silent windows as zero', () => {
    const d = new AnomalyDetector(rule, { ...spec, minHistory: 5, mad: undefined, factor: 2, minValue: 5 });
    feed(d, 'alice', MONDAY, 50);
    // 20 silent hours, then 10 events: median of history is 0, so 10 is anomalous
    expect(feed(d, 'alice', MONDAY + 21 * HOUR, 10)).toHaveLength(1);
  });

  it('with hour-of-week seasonality, compares each hour with the same hour of past weeks', () => {
    const seasonal = parseAnomalySpec({
      entity: ['user'],
      metric: 'count',
      window: '1h',
      history: '28d',
      seasonality: 'hour_of_week',
      min_history: 3,
      threshold: { factor: 3, min_value: 20 },
    });
    const flat = parseAnomalySpec({
      entity: ['user'],
      metric: 'count',
      window: '1h',
      history: '28d',
      min_history: 24,
      threshold: { factor: 3, min_value: 20 },
    });
    const run = (s: typeof seasonal) => {
      const d = new AnomalyDetector(rule, s);
      for (let week = 0; week < 3; week++) {
        for (let h = 0; h < 168; h++) feed(d, 'backup', MONDAY + (week * 168 + h) * HOUR, h === 9 ? 100 : 5);
      }
      const monday9 = feed(d, 'backup', MONDAY + (3 * 168 + 9) * HOUR, 100);
      const sunday3 = feed(d, 'backup', MONDAY + (3 * 168 + 147) * HOUR, 100);
      return { monday9: monday9.length, sunday3: sunday3.length };
    };
    expect(run(seasonal)).toEqual({ monday9: 0, sunday3: 1 });
    expect(run(flat)).toEqual({ monday9: 1, sunday3: 1 });
  });

  it('sums a field or counts distinct values', () => {
    const sum = new AnomalyDetector(
      rule,
      parseAnomalySpec({
        entity: 'user',
        metric: 'sum',
        field: 'bytes',
        window: '1h',
        history: '1d',
        min_history: 5,
        threshold: { factor: 10, min_value: 1e6 },
      }),
    );
    for (let h = 0; h < 10; h++) feed(sum, 'alice', MONDAY + h * HOUR, 4, { bytes: 10_000 });
    expect(feed(sum, 'alice', MONDAY + 10 * HOUR, 3, { bytes: '600000' })).toHaveLength(1);
    const distinct = new AnomalyDetector(
      rule,
      parseAnomalySpec({
        entity: 'src',
        metric: 'distinct',
        field: 'dst',
        window: '1h',
        history: '1d',
        min_history: 5,
        threshold: { factor: 5, min_value: 10 },
      }),
    );
    for (let h = 0; h < 10; h++)
      for (let i = 0; i < 5; i++)
        distinct.observe(prepareEvent({ src: 'h1', dst: `d${i % 2}` }), MONDAY + h * HOUR + i);
    const alerts: AnomalyAlert[] = [];
    for (let i = 0; i < 50; i++)
      alerts.push(...distinct.observe(prepareEvent({ src: 'h1', dst: `scan${i}` }), MONDAY + 10 * HOUR + i));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.value).toBe(10);
  });

  it('state survives a restart as JSON and gives the same alerts', () => {
    const continuous = new AnomalyDetector(rule, spec);
    const restarted = new AnomalyDetector(rule, spec);
    for (let h = 0; h < 30; h++) {
      feed(continuous, 'alice', MONDAY + h * HOUR, 8);
      feed(restarted, 'alice', MONDAY + h * HOUR, 8);
    }
    const saved = JSON.parse(JSON.stringify(restarted.exportState())) as ReturnType<
      typeof restarted.exportState
    >;
    const revived = new AnomalyDetector(rule, spec);
    revived.importState(saved);
    expect(feed(revived, 'alice', MONDAY + 30 * HOUR, 100)).toEqual(
      feed(continuous, 'alice', MONDAY + 30 * HOUR, 100),
    );
    expect(feed(new AnomalyDetector(rule, spec), 'alice', MONDAY + 30 * HOUR, 100)).toEqual([]);
  });

  it('keeps at most max_entities entities and drops late events', () => {
    const d = new AnomalyDetector(rule, { ...spec, maxEntities: 5 });
    for (let i = 0; i < 20; i++) d.observe(prepareEvent({ user: `u${i}` }), MONDAY);
    expect(d.size).toBe(5);
    expect(d.metrics.entitiesEvicted).toBe(15);
    d.observe(prepareEvent({ user: 'u19' }), MONDAY + 5 * HOUR);
    d.observe(prepareEvent({ user: 'u19' }), MONDAY);
    expect(d.metrics.lateDropped).toBe(1);
  });

  it('rejects malformed specs naming the field', () => {
    const fieldOf = (raw: unknown): string => {
      try {
        parseAnomalySpec(raw);
      } catch (error) {
        return (error as SigmaRuleError).path;
      }
      return 'none';
    };
    expect(fieldOf({ metric: 'count', threshold: { factor: 2 } })).toBe('anomaly.entity');
    expect(fieldOf({ entity: 'u', metric: 'sum', threshold: { factor: 2 } })).toBe('anomaly.field');
    expect(fieldOf({ entity: 'u', metric: 'median', threshold: { factor: 2 } })).toBe('anomaly.metric');
    expect(fieldOf({ entity: 'u', threshold: {} })).toBe('anomaly.threshold');
    expect(
      fieldOf({ entity: 'u', window: '2h', seasonality: 'hour_of_week', threshold: { factor: 2 } }),
    ).toBe('anomaly.window');
  });

  it('runs as a rule file through the detector (the selection feeds the baseline)', () => {
    const yaml = `title: Unusual data export
id: fb-export
level: high
logsource:
    product: test
detection:
    selection:
        action: upload
    condition: selection
anomaly:
    entity: user
    metric: sum
    field: bytes
    window: 1h
    history: 1d
    min_history: 5
    threshold:
        factor: 5
        min_value: 1000000
`;
    const detector = new Detector(ruleSetFrom([yaml]));
    const at = (h: number, m = 0) => new Date(MONDAY + h * HOUR + m * 60_000).toISOString();
    const out = [];
    for (let h = 0; h < 8; h++)
      out.push(
        ...detector.process(
          prepareEvent({ action: 'upload', user: 'eve', bytes: 50_000, '@timestamp': at(h) }),
        ),
      );
    out.push(
      ...detector.process(prepareEvent({ action: 'download', user: 'eve', bytes: 9e9, '@timestamp': at(8) })),
    );
    expect(out).toEqual([]);
    const spike = detector.process(
      prepareEvent({ action: 'upload', user: 'eve', bytes: 2e6, '@timestamp': at(8, 5) }),
    );
    expect(spike.map((d) => [d.kind, d.rule.id])).toEqual([['anomaly', 'fb-export']]);
  });
});
