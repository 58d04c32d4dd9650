import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installBuiltinRules } from '../../src/services/builtin-rules.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createApiEnv, type ApiEnv, type TestIngestion } from '../support/harness.js';

announceSkips();

for (const engine of ENGINES) {
  describe.skipIf(engine.skipReason !== null)(
    engine.skipReason ?? `detection lists on ${engine.name}`,
    () => {
      let env: ApiEnv & { ingestion: TestIngestion | null };
      beforeAll(async () => {
        env = await createApiEnv(engine, { ingestion: {} });
        await installBuiltinRules(env.context, env.orgId);
      });
      afterAll(async () => {
        await env?.close();
      });

      const connection = (ip: string) =>
        env.app.inject({
          method: 'POST',
          url: '/api/v1/events?source=firewall',
          headers: {
            'content-type': 'application/x-ndjson',
            authorization: `Bearer ${env.tokens.responder}`,
          },
          payload: JSON.stringify({
            '@timestamp': '2026-11-27T05:00:00Z',
            event: { category: ['network'] },
            source: { ip: '10.0.0.5' },
            destination: { ip },
          }),
        });
      const blocklistAlerts = async () =>
        (
          (await env.call('viewer', 'GET', '/api/v1/alerts?limit=100')).json().items as Array<{
            title: string;
          }>
        ).filter((a) => /blocklist/i.test(a.title));

      it('an imported blocklist turns the built-in rule on: traffic to a listed address raises an alert', async () => {
        expect((await connection('203.0.113.66')).statusCode).toBe(202);
        await env.ingestion!.drain();
        expect(await blocklistAlerts()).toEqual([]);

        const put = await env.call('responder', 'PUT', '/api/v1/detection/lists/firebreak_blocklist_ips', {
          entries: ['203.0.113.66', ' 203.0.113.66 ', '', '198.51.100.9'],
          description: 'feed of 2026-11-27',
        });
        expect(put.statusCode).toBe(200);
        expect(put.json()).toMatchObject({
          name: 'firebreak_blocklist_ips',
          placeholder: '%firebreak_blocklist_ips%',
          entries: ['203.0.113.66', '198.51.100.9'],
          updated_by: expect.stringContaining('responder'),
        });
        expect((await connection('203.0.113.66')).statusCode).toBe(202);
        expect((await connection('192.0.2.1')).statusCode).toBe(202);
        await env.ingestion!.drain();
        const alerts = await blocklistAlerts();
        expect(alerts).toHaveLength(1);

        expect(
          (await env.call('responder', 'DELETE', '/api/v1/detection/lists/firebreak_blocklist_ips'))
            .statusCode,
        ).toBe(204);
        expect((await env.call('viewer', 'GET', '/api/v1/detection/lists')).json().items).toEqual([]);
      });

      it('a suppression added through the API silences the pipeline from its next batch, counting hits', async () => {
        const put = await env.call('responder', 'PUT', '/api/v1/detection/lists/firebreak_blocklist_ips', {
          entries: ['203.0.113.77', '203.0.113.78'],
        });
        expect(put.statusCode).toBe(200);
        const occurrences = async () =>
          (
            (await env.call('viewer', 'GET', '/api/v1/alerts?limit=100')).json().items as Array<{
              title: string;
              occurrence_count: number;
            }>
          )
            .filter((a) => /blocklist/i.test(a.title))
            .reduce((sum, a) => sum + a.occurrence_count, 0);
        const before = await occurrences();
        const created = await env.call('responder', 'POST', '/api/v1/suppressions', {
          field: 'destination.ip',
          value: '203.0.113.77',
          reason: 'scanner we run ourselves',
          expires_at: new Date(env.clock.now().getTime() + 86_400_000).toISOString(),
        });
        expect(created.statusCode).toBe(201);
        expect((await connection('203.0.113.77')).statusCode).toBe(202);
        expect((await connection('203.0.113.78')).statusCode).toBe(202);
        await env.ingestion!.drain();
        // Only the unsuppressed address was detected; the other counted on the suppression.
        expect(await occurrences()).toBe(before + 1);
        const suppression = await env.call(
          'viewer',
          'GET',
          `/api/v1/suppressions/${created.json().id as string}`,
        );
        expect(suppression.json().hit_count).toBe(1);
        await env.call('responder', 'DELETE', '/api/v1/detection/lists/firebreak_blocklist_ips');
      });

      it('names the field at fault, keeps viewers read-only and answers 404 for an unknown list', async () => {
        const bad = await env.call('responder', 'PUT', '/api/v1/detection/lists/Bad-Name', { entries: [] });
        expect(bad.statusCode).toBe(400);
        expect(bad.json().error.field).toBe('name');
        const viewer = await env.call('viewer', 'PUT', '/api/v1/detection/lists/x_list', { entries: ['a'] });
        expect(viewer.statusCode).toBe(403);
        expect((await env.call('viewer', 'GET', '/api/v1/detection/lists/nothing_here')).statusCode).toBe(
          404,
        );
        const notArray = await env.call('responder', 'PUT', '/api/v1/detection/lists/x_list', {
          entries: 'a',
        });
        expect(notArray.statusCode).toBe(400);
        expect(notArray.json().error.field).toBe('entries');
      });
    },
  );
}
