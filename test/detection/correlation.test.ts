import { describe, expect, it } from 'vitest';
import { Detector, type Detection } from '../../src/detection/detector.js';
import { prepareEvent } from '../../src/detection/event.js';
import { ruleSetFrom } from './helpers.js';

const base = (id: string, name: string, field: string, value: string) => `title: ${name}
id: ${id}
name: ${name}
level: low
logsource:
    product: test
detection:
    sel:
        ${field}: ${value}
    condition: sel
`;

const FAIL = base('r-fail', 'failed_login', 'Outcome', 'failure');
const OK = base('r-ok', 'good_login', 'Outcome', 'success');
const CONN = base('r-conn', 'connection', 'Kind', 'conn');

const correlation = (body: string, extra = '') => `title: Correlation
id: c-1
name: corr
level: high
${extra}correlation:
${body
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

function run(detector: Detector, events: Array<Record<string, unknown>>): Detection[] {
  const out: Detection[] = [];
  for (const e of events) out.push(...detector.process(prepareEvent(e)));
  out.push(...detector.flush());
  return out;
}
const corrOnly = (ds: Detection[]) => ds.filter((d) => d.kind === 'correlation');
const fail = (user: string, s: number, extra: Record<string, unknown> = {}) => ({
  Outcome: 'failure',
  User: user,
  '@timestamp': at(s),
  ...extra,
});
const ok = (user: string, s: number) => ({ Outcome: 'success', User: user, '@timestamp': at(s) });

describe('event_count', () => {
  const set = ruleSetFrom([
    FAIL,
    correlation(
      `type: event_count\nrules: [failed_login]\ngroup-by: [User]\ntimespan: 1m\ncondition:\n    gte: 3`,
    ),
  ]);

  it('fires once per burst when the count is reached within the timespan, per group', () => {
    const d = corrOnly(
      run(new Detector(set), [
        fail('a', 0),
        fail('b', 1),
        fail('a', 20),
        fail('a', 50),
        fail('a', 55),
        fail('b', 30),
      ]),
    );
    expect(d).toHaveLength(1);
    expect(d[0]!.kind === 'correlation' && d[0]!.match.group).toEqual({ User: 'a' });
    expect(d[0]!.kind === 'correlation' && d[0]!.match.value).toBe(3);
  });

  it('does not fire when the events are spread wider than the timespan', () => {
    expect(
      corrOnly(run(new Detector(set), [fail('a', 0), fail('a', 40), fail('a', 80), fail('a', 120)])),
    ).toHaveLength(0);
  });

  it('counts an out-of-order event into the right window', () => {
    // arrives last but happened between the other two
    expect(corrOnly(run(new Detector(set), [fail('a', 0), fail('a', 50), fail('a', 25)]))).toHaveLength(1);
    // arrives last, happened long before: outside every window with the others
    expect(corrOnly(run(new Detector(set), [fail('a', 100), fail('a', 150), fail('a', 10)]))).toHaveLength(0);
  });

  it('drops and counts late events (older than the watermark minus the timespan)', () => {
    const detector = new Detector(set);
    const d = corrOnly(run(detector, [fail('a', 600), fail('a', 601), fail('a', 0)]));
    expect(d).toHaveLength(0);
    expect(detector.correlations.metrics.lateDropped).toBe(1);
    // with allowed lateness the same stream is accepted (the late event is still outside the window)
    const lenient = new Detector(set, { correlation: { allowedLatenessMs: 3_600_000 } });
    run(lenient, [fail('a', 600), fail('a', 601), fail('a', 0)]);
    expect(lenient.correlations.metrics.lateDropped).toBe(0);
  });

  it('keeps state bounded: at most maxGroups groups, counting evictions', () => {
    const detector = new Detector(set, { correlation: { maxGroups: 10 } });
    run(
      detector,
      Array.from({ length: 100 }, (_, i) => fail(`user${i}`, i)),
    );
    expect(detector.correlations.size().groups).toBe(10);
    expect(detector.correlations.metrics.groupsEvicted).toBe(90);
  });

  it('keeps at most maxEventsPerGroup events per group', () => {
    const big = ruleSetFrom([
      FAIL,
      correlation(
        `type: event_count\nrules: [failed_login]\ngroup-by: [User]\ntimespan: 1h\ncondition:\n    gte: 1000`,
      ),
    ]);
    const detector = new Detector(big, { correlation: { maxEventsPerGroup: 50 } });
    for (let i = 0; i < 200; i++) detector.process(prepareEvent(fail('a', i)));
    expect(detector.correlations.size().events).toBe(50);
    expect(detector.correlations.metrics.eventsDropped).toBeGreaterThan(0);
  });

  it('checks lt conditions when the window closes', () => {
    const few = ruleSetFrom([
      FAIL,
      correlation(
        `type: event_count\nrules: [failed_login]\ngroup-by: [User]\ntimespan: 1m\ncondition:\n    lt: 2`,
      ),
    ]);
    const d = corrOnly(run(new Detector(few), [fail('a', 0), fail('b', 0), fail('b', 10), fail('c', 200)]));
    // a: one event in its window -> fires; b: two -> no; c: one (closed at flush) -> fires
    expect(d.map((x) => x.kind === 'correlation' && x.match.group['User'])).toEqual(['a', 'c']);
  });

  it('state survives a restart through exportState/importState (JSON)', () => {
    const first = new Detector(set);
    first.process(prepareEvent(fail('a', 0)));
    first.process(prepareEvent(fail('a', 10)));
    const saved = JSON.parse(JSON.stringify(first.correlations.exportState())) as ReturnType<
      typeof first.correlations.exportState
    >;
    const second = new Detector(set);
    second.correlations.importState(saved);
    expect(corrOnly(second.process(prepareEvent(fail('a', 20))))).toHaveLength(1);
    const fresh = new Detector(set);
    expect(corrOnly(fresh.process(prepareEvent(fail('a', 20))))).toHaveLength(0);
  });

  it('hides the referenced rule unless generate is true', () => {
    const hidden = run(new Detector(set), [fail('a', 0)]);
    expect(hidden).toHaveLength(0);
    const shown = ruleSetFrom([
      FAIL,
      correlation(
        `type: event_count\nrules: [failed_login]\ngroup-by: [User]\ntimespan: 1m\ngenerate: true\ncondition:\n    gte: 3`,
      ),
    ]);
    expect(run(new Detector(shown), [fail('a', 0)]).map((d) => d.rule.id)).toEqual(['r-fail']);
  });
});

describe('value_count', () => {
  it('counts distinct values of a field per group', () => {
    const set = ruleSetFrom([
      FAIL,
      correlation(
        `type: value_count\nrules: [failed_login]\ngroup-by: [Src]\ntimespan: 5m\ncondition:\n    field: User\n    gte: 3`,
      ),
    ]);
    const same = run(new Detector(set), [
      fail('a', 0, { Src: 'x' }),
      fail('a', 1, { Src: 'x' }),
      fail('b', 2, { Src: 'x' }),
      fail('b', 3, { Src: 'x' }),
    ]);
    expect(corrOnly(same)).toHaveLength(0);
    const spray = run(new Detector(set), [
      fail('a', 0, { Src: 'x' }),
      fail('b', 1, { Src: 'x' }),
      fail('c', 400, { Src: 'x' }),
      fail('d', 2, { Src: 'y' }),
      fail('e', 100, { Src: 'x' }),
    ]);
    const d = corrOnly(spray);
    expect(d).toHaveLength(1);
    expect(d[0]!.kind === 'correlation' && d[0]!.match.group).toEqual({ Src: 'x' });
  });
});

describe('temporal and temporal_ordered', () => {
  const temporal = ruleSetFrom([
    FAIL,
    OK,
    correlation(`type: temporal\nrules: [failed_login, good_login]\ngroup-by: [User]\ntimespan: 5m`),
  ]);
  const ordered = ruleSetFrom([
    FAIL,
    OK,
    correlation(`type: temporal_ordered\nrules: [failed_login, good_login]\ngroup-by: [User]\ntimespan: 5m`),
  ]);

  it('temporal needs every rule within the timespan, in any order', () => {
    expect(corrOnly(run(new Detector(temporal), [ok('a', 0), fail('a', 100)]))).toHaveLength(1);
    expect(corrOnly(run(new Detector(temporal), [ok('a', 0), fail('a', 400)]))).toHaveLength(0);
    expect(corrOnly(run(new Detector(temporal), [ok('a', 0), fail('b', 10)]))).toHaveLength(0);
  });

  it('temporal_ordered needs the rules in order of event time', () => {
    expect(corrOnly(run(new Detector(ordered), [fail('a', 0), ok('a', 100)]))).toHaveLength(1);
    expect(corrOnly(run(new Detector(ordered), [ok('a', 0), fail('a', 100)]))).toHaveLength(0);
    // arrival order differs from event time order: the event time decides
    expect(corrOnly(run(new Detector(ordered), [ok('a', 100), fail('a', 50)]))).toHaveLength(1);
    expect(corrOnly(run(new Detector(ordered), [fail('a', 100), ok('a', 50)]))).toHaveLength(0);
  });

  it('aliases group on different fields per rule', () => {
    const set = ruleSetFrom([
      FAIL,
      CONN,
      correlation(
        `type: temporal\nrules: [failed_login, connection]\ngroup-by: [ip]\ntimespan: 1m\naliases:\n    ip:\n        failed_login: Src\n        connection: Dst`,
      ),
    ]);
    const hit = run(new Detector(set), [
      fail('a', 0, { Src: '10.0.0.1' }),
      { Kind: 'conn', Dst: '10.0.0.1', '@timestamp': at(5) },
    ]);
    expect(corrOnly(hit)).toHaveLength(1);
    expect(corrOnly(hit)[0]!.kind === 'correlation' && corrOnly(hit)[0]!.match.group).toEqual({
      ip: '10.0.0.1',
    });
    const miss = run(new Detector(set), [
      fail('a', 0, { Src: '10.0.0.1' }),
      { Kind: 'conn', Dst: '10.0.0.2', '@timestamp': at(5) },
    ]);
    expect(corrOnly(miss)).toHaveLength(0);
  });
});

describe('value aggregations', () => {
  const agg = (type: string, cond: string) =>
    ruleSetFrom([
      FAIL,
      correlation(
        `type: ${type}\nrules: [failed_login]\ngroup-by: [User]\ntimespan: 1h\ncondition:\n    field: Bytes\n    ${cond}`,
      ),
    ]);
  const events = [
    fail('a', 0, { Bytes: 400 }),
    fail('a', 10, { Bytes: 700 }),
    fail('a', 20, { Bytes: '100' }),
  ];

  it('value_sum', () => {
    const d = corrOnly(run(new Detector(agg('value_sum', 'gt: 1000')), events));
    expect(d).toHaveLength(1);
    expect(d[0]!.kind === 'correlation' && d[0]!.match.value).toBe(1100);
    expect(corrOnly(run(new Detector(agg('value_sum', 'gt: 1200')), events))).toHaveLength(0);
  });

  it('value_avg, value_max, value_median, value_percentile', () => {
    expect(corrOnly(run(new Detector(agg('value_avg', 'gte: 550')), events.slice(0, 2)))).toHaveLength(1);
    expect(corrOnly(run(new Detector(agg('value_avg', 'gte: 551')), events.slice(0, 2)))).toHaveLength(0);
    expect(corrOnly(run(new Detector(agg('value_max', 'gt: 600')), events))).toHaveLength(1);
    expect(corrOnly(run(new Detector(agg('value_median', 'gte: 500')), events.slice(0, 2)))).toHaveLength(1);
    expect(
      corrOnly(
        run(new Detector(agg('value_percentile', 'percentile: 100\n    gte: 700')), events.slice(0, 2)),
      ),
    ).toHaveLength(1);
  });
});

describe('chained correlations', () => {
  it('a correlation can reference another correlation', () => {
    const inner = `title: many failures
id: c-inner
name: many_failures
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User]
    timespan: 1m
    condition:
        gte: 2
`;
    const outer = `title: failures then success
id: c-outer
level: critical
correlation:
    type: temporal_ordered
    rules: [many_failures, good_login]
    group-by: [User]
    timespan: 10m
`;
    const set = ruleSetFrom([FAIL, OK, inner, outer]);
    const d = corrOnly(run(new Detector(set), [fail('a', 0), fail('a', 10), ok('a', 60)]));
    expect(d.map((x) => x.rule.id)).toEqual(['c-inner', 'c-outer']);
  });
});

describe('filters', () => {
  it('exclude matches of the named rules', () => {
    const rule = base('r-proc', 'proc', 'Image|endswith', "'\\rar.exe'");
    const filter = `title: admin exclusion
logsource:
    product: test
filter:
    rules:
        - r-proc
    selection:
        User|startswith: 'adm_'
    condition: selection
`;
    const set = ruleSetFrom([rule, filter]);
    const d = new Detector(set);
    expect(d.process(prepareEvent({ Image: 'C:\\x\\rar.exe', User: 'bob' }))).toHaveLength(1);
    expect(d.process(prepareEvent({ Image: 'C:\\x\\rar.exe', User: 'adm_bob' }))).toHaveLength(0);
  });

  it('naming an unknown rule is reported', () => {
    const filter = `title: f\nlogsource:\n    product: test\nfilter:\n    rules: [nope]\n    selection:\n        A: 1\n    condition: selection\n`;
    expect(() => ruleSetFrom([FAIL, filter])).toThrow(/unknown rule "nope"/);
  });
});
