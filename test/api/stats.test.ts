import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OverviewWire } from '../../src/api/stats/schema.js';
import { weekStart } from '../../src/services/stats.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createApiEnv, createOtherOrg, type ApiEnv } from '../support/harness.js';
import { createApiToken } from '../../src/services/identity.js';

announceSkips();

describe('weekStart', () => {
  it('is Monday 00:00 UTC of the week, for every day of it', () => {
    expect(weekStart(new Date('2026-03-02T00:00:00Z')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
    expect(weekStart(new Date('2026-03-04T12:00:00Z')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
    expect(weekStart(new Date('2026-03-08T23:59:59Z')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
    expect(weekStart(new Date('2026-03-01T09:00:00Z')).toISOString()).toBe('2026-02-23T00:00:00.000Z');
  });
});

describe.each(ENGINES)('stats API on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let env: ApiEnv;
    const at = (iso: string) => env.clock.set(iso);
    const post = async (url: string, body: unknown = {}) => {
      const response = await env.call('responder', 'POST', `/api/v1${url}`, body);
      expect(response.statusCode, response.body).toBeLessThan(300);
      return response.json() as { id: string };
    };
    const open = (title: string, severity: string) => post('/incidents', { title, severity });
    const overview = async (query = '', role: 'viewer' | 'responder' = 'viewer') => {
      const response = await env.call(role, 'GET', `/api/v1/stats/overview${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return OverviewWire.parse(response.json());
    };

    beforeAll(async () => {
      env = await createApiEnv(engine);
      // Before the window: opened 2026-02-02, acknowledged inside it; counts in no weekly bucket.
      at('2026-02-02T10:00:00.000Z');
      const early = await open('Before the window', 'low');

      // Week of 2026-02-16: four incidents acknowledged after 60, 120, 180 and 600 seconds.
      const made: { id: string }[] = [];
      for (const [index, delay] of [60, 120, 180, 600].entries()) {
        const created = `2026-02-17T1${index}:00:00.000Z`;
        at(created);
        const incident = await open(['A', 'B', 'F', 'G'][index]!, index === 0 ? 'medium' : 'high');
        made.push(incident);
        at(new Date(Date.parse(created) + delay * 1000).toISOString());
        await post(`/incidents/${incident.id}/acknowledge`);
      }
      at('2026-02-18T10:00:00.000Z');
      await post(`/incidents/${early.id}/acknowledge`);
      const [first, second, , fourth] = made;
      await post(`/incidents/${fourth!.id}/transitions`, { to: 'containment' });
      // A (opened 02-17 10:00) closes a week later; B (11:00) two weeks later.
      at('2026-02-24T10:00:00.000Z');
      await post(`/incidents/${first!.id}/transitions`, { to: 'closed', resolution: 'benign' });
      at('2026-03-03T11:00:00.000Z');
      await post(`/incidents/${second!.id}/transitions`, { to: 'closed', resolution: 'duplicate' });
      // This week: C opened and closed an hour later (closing from analysis acknowledges), D open.
      at('2026-03-02T08:00:00.000Z');
      const c = await open('C', 'low');
      at('2026-03-02T09:00:00.000Z');
      await post(`/incidents/${c.id}/transitions`, { to: 'closed', resolution: 'false_positive' });
      await open('D', 'critical');

      // Alerts: three from edr (rule r1), three from fw (two r2, one without a rule); one r1 triaged.
      const alerts: { id: string }[] = [];
      for (const [source, rule, severity] of [
        ['edr', 'r1', 'high'],
        ['edr', 'r1', 'high'],
        ['edr', 'r1', 'low'],
        ['fw', 'r2', 'medium'],
        ['fw', 'r2', 'medium'],
        ['fw', null, 'low'],
      ] as const) {
        alerts.push(
          await post('/alerts', { title: `${source} ${rule}`, source, severity, ...(rule ? { rule } : {}) }),
        );
      }
      await post('/alerts/status', { alert_ids: [alerts[0]!.id], status: 'acknowledged' });
      at('2026-03-04T12:00:00.000Z');
    });
    afterAll(async () => {
      await env?.close();
    });

    it('counts open incidents by severity and phase, most severe first', async () => {
      const stats = await overview('?weeks=3');
      expect(stats.generated_at).toBe('2026-03-04T12:00:00.000Z');
      expect(stats.open_incidents).toEqual({
        total: 4,
        by_severity_phase: [
          { severity: 'critical', phase: 'analysis', count: 1 },
          { severity: 'high', phase: 'analysis', count: 1 },
          { severity: 'high', phase: 'containment', count: 1 },
          { severity: 'low', phase: 'analysis', count: 1 },
        ],
      });
    });

    it('counts alerts waiting for triage by severity, rule and source, busiest first, cut at top', async () => {
      const stats = await overview();
      expect(stats.alerts_waiting).toEqual({
        total: 5,
        by_severity: [
          { severity: 'high', count: 1 },
          { severity: 'medium', count: 2 },
          { severity: 'low', count: 2 },
        ],
        // Ties in name order; alerts without a rule after named ones.
        by_rule: [
          { rule: 'r1', count: 2 },
          { rule: 'r2', count: 2 },
          { rule: null, count: 1 },
        ],
        by_source: [
          { source: 'fw', count: 3 },
          { source: 'edr', count: 2 },
        ],
      });
      const top1 = await overview('?top=1');
      expect(top1.alerts_waiting.by_source).toEqual([{ source: 'fw', count: 3 }]);
      expect(top1.alerts_waiting.by_rule).toHaveLength(1);
      expect(top1.alerts_waiting.total).toBe(5);
    });

    it('gives per week the incidents opened and closed with median and p90 times, computed in SQL', async () => {
      const stats = await overview('?weeks=3');
      expect(stats.weekly).toEqual([
        {
          week_start: '2026-02-16',
          opened: 4,
          closed: 0,
          // 60, 120, 180, 600 s: median between 120 and 180; p90 at 0.9·3 = 2.7 → 180 + 0.7·420.
          to_acknowledge: { count: 4, median_s: 150, p90_s: 474 },
          to_close: { count: 0, median_s: null, p90_s: null },
        },
        {
          week_start: '2026-02-23',
          opened: 0,
          closed: 1,
          to_acknowledge: { count: 0, median_s: null, p90_s: null },
          to_close: { count: 1, median_s: 604_800, p90_s: 604_800 },
        },
        {
          week_start: '2026-03-02',
          opened: 2,
          closed: 2,
          to_acknowledge: { count: 1, median_s: 3600, p90_s: 3600 },
          // 3600 and 1 209 600 s: median halfway; p90 = 3600 + 0.9·1 206 000.
          to_close: { count: 2, median_s: 606_600, p90_s: 1_089_000 },
        },
      ]);
      // The window as a whole: acknowledged 60, 120, 180, 600, 3600 s; closed 3600, 604 800, 1 209 600 s.
      expect(stats.period).toEqual({
        from: '2026-02-16T00:00:00.000Z',
        opened: 6,
        closed: 3,
        to_acknowledge: { count: 5, median_s: 180, p90_s: 2400 },
        to_close: { count: 3, median_s: 604_800, p90_s: 1_088_640 },
      });
      const longer = await overview('?weeks=6');
      expect(longer.weekly.map((w) => w.week_start)).toEqual([
        '2026-01-26',
        '2026-02-02',
        '2026-02-09',
        '2026-02-16',
        '2026-02-23',
        '2026-03-02',
      ]);
      expect(longer.weekly[1]).toMatchObject({
        opened: 1,
        to_acknowledge: { count: 1, median_s: 1_382_400 },
      });
    });

    it('answers every role for its own organisation only, and checks its parameters', async () => {
      const other = await createOtherOrg(env);
      const token = await createApiToken(env.context, other.responder, {
        userId: other.responder.userId ?? other.responder.id,
        name: 'other org',
      });
      const response = await env.app.inject({
        method: 'GET',
        url: '/api/v1/stats/overview',
        headers: { authorization: `Bearer ${token.secret}` },
      });
      expect(response.statusCode).toBe(200);
      const stats = OverviewWire.parse(response.json());
      expect(stats.open_incidents.total).toBe(0);
      expect(stats.alerts_waiting.total).toBe(0);
      expect(stats.weekly.every((w) => w.opened === 0 && w.closed === 0)).toBe(true);

      expect((await env.call(null, 'GET', '/api/v1/stats/overview')).statusCode).toBe(401);
      const bad = await env.call('viewer', 'GET', '/api/v1/stats/overview?weeks=0');
      expect(bad.statusCode).toBe(400);
      expect((await env.call('viewer', 'GET', '/api/v1/stats/overview?weeks=53')).statusCode).toBe(400);
      expect((await env.call('viewer', 'GET', '/api/v1/stats/overview?extra=1')).statusCode).toBe(400);
    });

    it('is described in the OpenAPI document under the stats tag', async () => {
      const doc = (await env.call(null, 'GET', '/api/v1/openapi.json')).json() as {
        paths: Record<string, { get?: { tags?: string[] } }>;
      };
      expect(doc.paths['/api/v1/stats/overview']?.get?.tags).toEqual(['stats']);
    });
  });
});
