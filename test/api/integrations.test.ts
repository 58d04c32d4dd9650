import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { IntegrationWire, WebhookAnswer } from '../../src/api/integrations/schema.js';
import { AlertWire, ObservableWire, listOf } from '../../src/api/wire-schemas.js';
import { FailureRateLimiter } from '../../src/core/rate-limiter.js';
import { RateLimitedError } from '../../src/core/errors.js';
import type { EventIntake, ReceivedEvent } from '../../src/ingest/event-record.js';
import { createApiToken } from '../../src/services/identity.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createApiEnv, createOtherOrg, type ApiEnv } from '../support/harness.js';
import { EVE_DNS, EVE_FLOW, eveAlert, notification, wazuhAlert } from '../integrations/fixtures.js';

announceSkips();

const BODY_LIMIT = 64 * 1024;

describe.each(ENGINES)('integrations API on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let env: ApiEnv;
    beforeAll(async () => {
      env = await createApiEnv(engine, { bodyLimit: BODY_LIMIT });
    });
    afterAll(async () => {
      await env?.close();
    });

    const create = async (body: Record<string, unknown>) => {
      const res = await env.call('admin', 'POST', '/api/v1/integrations', body);
      expect(res.statusCode, res.body).toBe(201);
      return IntegrationWire.parse(res.json()) as ReturnType<typeof IntegrationWire.parse> & {
        token: string;
      };
    };
    const post = (
      app: FastifyInstance,
      id: string,
      token: string | null,
      body: string,
      contentType = 'application/json',
    ) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/integrations/${id}/webhook`,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(contentType ? { 'content-type': contentType } : {}),
        },
        payload: body,
      });
    const alertByKey = async (dedupKey: string) => {
      const row = await env.context.database.db
        .selectFrom('alerts')
        .select('id')
        .where('dedup_key', '=', dedupKey)
        .executeTakeFirstOrThrow();
      const res = await env.call('viewer', 'GET', `/api/v1/alerts/${row.id}`);
      return AlertWire.extend({ observables: listOf(ObservableWire).shape.items }).parse(res.json());
    };
    const auditOf = (targetId: string) =>
      env.context.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('target_id', '=', targetId)
        .orderBy('seq')
        .execute();

    it('creates an integration with a token shown once and stored as a hash', async () => {
      const created = await create({ type: 'alertmanager', name: 'prod-am' });
      expect(created).toMatchObject({
        type: 'alertmanager',
        name: 'prod-am',
        mapping: null,
        disabled_at: null,
      });
      expect(created.token).toMatch(/^fbi_[A-Za-z0-9_-]{43}$/);
      expect(created.url).toBe(`http://localhost:80/api/v1/integrations/${created.id}/webhook`);
      const row = await env.context.database.db
        .selectFrom('integrations')
        .selectAll()
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      expect(row.token_hash).toBe(env.context.sha256(created.token));
      expect(JSON.stringify(row)).not.toContain(created.token);

      const list = await env.call('admin', 'GET', '/api/v1/integrations');
      const items = listOf(IntegrationWire).parse(list.json()).items;
      expect(items.find((i) => i.id === created.id)).toMatchObject({
        name: 'prod-am',
        token_prefix: created.token_prefix,
      });
      expect(items.some((i) => i.token !== undefined)).toBe(false);
      const one = await env.call('admin', 'GET', `/api/v1/integrations/${created.id}`);
      expect(one.json().token).toBeUndefined();
      expect((await auditOf(created.id)).map((a) => [a.action, a.actor_kind])).toEqual([
        ['integration.created', 'token'],
      ]);
      expect(JSON.stringify(await auditOf(created.id))).not.toContain(created.token);
    });

    it('lets only admins manage integrations, and validates the body naming the field', async () => {
      for (const role of ['responder', 'viewer'] as const) {
        expect(
          (await env.call(role, 'POST', '/api/v1/integrations', { type: 'wazuh', name: 'w' })).statusCode,
        ).toBe(403);
        expect((await env.call(role, 'GET', '/api/v1/integrations')).statusCode).toBe(403);
      }
      const cases: Array<[Record<string, unknown>, number, string, string]> = [
        [{ type: 'splunk', name: 'x' }, 400, 'invalid_request', 'type'],
        [{ type: 'generic', name: 'x' }, 400, 'mapping_required', 'mapping'],
        [{ type: 'wazuh', name: 'x', mapping: { title: '/t' } }, 400, 'mapping_not_allowed', 'mapping'],
        [
          { type: 'generic', name: 'x', mapping: { title: 'check.name' } },
          400,
          'invalid_request',
          'mapping.title',
        ],
        [
          { type: 'generic', name: 'x', mapping: { title: '/t', observables: [{ type: 'ip', path: 'a' }] } },
          400,
          'invalid_request',
          'mapping.observables[0].path',
        ],
        [
          { type: 'generic', name: 'x', mapping: { title: '/t', script: 'x' } },
          400,
          'invalid_request',
          'mapping.script',
        ],
        [{ type: 'alertmanager', name: 'prod-am' }, 409, 'name_taken', 'name'],
      ];
      for (const [body, status, code, field] of cases) {
        const res = await env.call('admin', 'POST', '/api/v1/integrations', body);
        expect(res.statusCode, JSON.stringify(body)).toBe(status);
        expect(res.json().error).toMatchObject({ code, field });
      }
    });

    it('records Alertmanager alerts, counts repeats, resolves and reopens them, audited as the integration', async () => {
      const am = await create({ type: 'alertmanager', name: 'am-lifecycle' });
      const first = await post(env.app, am.id, am.token, JSON.stringify(notification()));
      expect(first.statusCode, first.body).toBe(202);
      // The resolved alert in the group was never seen firing: taken, but nothing to resolve.
      expect(WebhookAnswer.parse(first.json())).toEqual({
        accepted: 2,
        alerts: 1,
        resolved: 0,
        events: 0,
        errors: [],
      });
      let alert = await alertByKey('alertmanager:1a30ba71cca2921f');
      expect(alert).toMatchObject({
        title: 'BlackBox probe failure: https://server.example.org',
        severity: 'critical',
        source: 'alertmanager:am-lifecycle',
        rule: 'ProbeFailure',
        description: 'Instance has been down for over 5m.',
        first_seen: '2026-03-01T07:52:26.739Z',
        occurrence_count: 1,
        resolved_at: null,
      });
      expect(alert.observables.map((o) => [o.type, o.value]).sort()).toEqual([
        ['domain', 'server.example.org'],
        ['url', 'https://server.example.org/'],
      ]);

      await post(env.app, am.id, am.token, JSON.stringify(notification()));
      expect((await alertByKey('alertmanager:1a30ba71cca2921f')).occurrence_count).toBe(2);

      const firing = notification().alerts[0]!;
      const resolve = (endsAt: string) =>
        JSON.stringify(
          notification({ status: 'resolved', alerts: [{ ...firing, status: 'resolved', endsAt }] }),
        );
      const resolved = await post(env.app, am.id, am.token, resolve('2026-03-01T08:40:00Z'));
      expect(resolved.json()).toMatchObject({ accepted: 1, alerts: 0, resolved: 1 });
      alert = await alertByKey('alertmanager:1a30ba71cca2921f');
      expect(alert.resolved_at).toBe('2026-03-01T08:40:00.000Z');
      expect((await post(env.app, am.id, am.token, resolve('2026-03-01T08:41:00Z'))).json()).toMatchObject({
        resolved: 0,
      });

      // A late repeat of the old firing does not reopen it; a new firing does.
      await post(env.app, am.id, am.token, JSON.stringify(notification({ alerts: [firing] })));
      expect((await alertByKey('alertmanager:1a30ba71cca2921f')).resolved_at).toBe(
        '2026-03-01T08:40:00.000Z',
      );
      const refire = { ...firing, startsAt: '2026-03-01T08:50:00Z' };
      await post(env.app, am.id, am.token, JSON.stringify(notification({ alerts: [refire] })));
      alert = await alertByKey('alertmanager:1a30ba71cca2921f');
      expect(alert).toMatchObject({
        resolved_at: null,
        occurrence_count: 4,
        last_seen: '2026-03-01T08:50:00.000Z',
      });

      const audit = await auditOf(alert.id);
      expect(audit.map((a) => a.action)).toEqual([
        'alert.created',
        'alert.repeated',
        'alert.resolved',
        'alert.repeated',
        'alert.reopened',
      ]);
      expect(new Set(audit.map((a) => `${a.actor_kind}:${a.actor_id}:${a.actor_name}`))).toEqual(
        new Set([`integration:${am.id}:am-lifecycle`]),
      );
      const listed = await env.call('viewer', 'GET', '/api/v1/alerts?source=alertmanager:am-lifecycle');
      expect(listed.json().items[0]).toMatchObject({
        resolved_at: null,
        description: 'Instance has been down for over 5m.',
      });
    });

    it('opens a webhook only with its own integration token', async () => {
      const a = await create({ type: 'wazuh', name: 'wazuh-a' });
      const b = await create({ type: 'wazuh', name: 'wazuh-b' });
      const body = JSON.stringify(wazuhAlert());
      expect((await post(env.app, a.id, a.token, body)).statusCode).toBe(202);
      const wrong = await post(env.app, a.id, b.token, body);
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json().error.code).toBe('wrong_integration');
      const userToken = await post(env.app, a.id, env.tokens.admin, body);
      expect(userToken.statusCode).toBe(401);
      expect(userToken.json().error.code).toBe('invalid_token');
      expect((await post(env.app, a.id, null, body)).statusCode).toBe(401);
      expect((await post(env.app, a.id, `${a.token}x`, body)).statusCode).toBe(401);
      for (const [method, url] of [
        ['GET', '/api/v1/alerts'],
        ['GET', '/api/v1/integrations'],
        ['POST', '/api/v1/alerts'],
        ['GET', `/api/v1/integrations/${a.id}`],
      ] as const) {
        const res = await env.app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${a.token}` },
          ...(method === 'POST' ? { payload: { title: 't', severity: 'low', source: 's' } } : {}),
        });
        expect(res.statusCode, `${method} ${url}`).toBe(401);
      }
    });

    it('disables an integration (its token stops working) and rotates tokens, audited', async () => {
      const w = await create({ type: 'wazuh', name: 'wazuh-rotate' });
      const body = JSON.stringify(wazuhAlert());
      const rotated = await env.call('admin', 'POST', `/api/v1/integrations/${w.id}/rotate-token`);
      expect(rotated.statusCode).toBe(200);
      const fresh = IntegrationWire.parse(rotated.json());
      expect(fresh.token).toMatch(/^fbi_/);
      expect(fresh.token).not.toBe(w.token);
      expect((await post(env.app, w.id, w.token, body)).statusCode).toBe(401);
      expect((await post(env.app, w.id, fresh.token!, body)).statusCode).toBe(202);

      const disabled = await env.call('admin', 'DELETE', `/api/v1/integrations/${w.id}`);
      expect(disabled.statusCode).toBe(200);
      expect(disabled.json().disabled_at).not.toBeNull();
      expect((await post(env.app, w.id, fresh.token!, body)).statusCode).toBe(401);
      expect((await env.call('admin', 'POST', `/api/v1/integrations/${w.id}/rotate-token`)).statusCode).toBe(
        409,
      );
      expect((await env.call('admin', 'DELETE', `/api/v1/integrations/${w.id}`)).statusCode).toBe(200);
      expect((await auditOf(w.id)).map((a) => a.action)).toEqual([
        'integration.created',
        'integration.token_rotated',
        'integration.disabled',
      ]);
      // A disabled integration frees its name.
      await create({ type: 'wazuh', name: 'wazuh-rotate' });
    });

    it("answers 404 for another organisation's integrations", async () => {
      const mine = await create({ type: 'suricata', name: 'ids-private' });
      const other = await createOtherOrg(env);
      const { createUser } = await import('../../src/services/identity.js');
      const { systemActor } = await import('../../src/core/actor.js');
      const otherAdmin = await createUser(env.context, systemActor(other.orgId), {
        email: `admin-${other.orgId}@example.test`,
        role: 'admin',
      });
      const otherToken = (
        await createApiToken(env.context, systemActor(other.orgId), {
          userId: otherAdmin.id,
          name: 'other admin',
        })
      ).secret;
      const as = (method: 'GET' | 'DELETE' | 'POST', url: string) =>
        env.app.inject({ method, url, headers: { authorization: `Bearer ${otherToken}` } });
      expect((await as('GET', `/api/v1/integrations/${mine.id}`)).statusCode).toBe(404);
      expect((await as('DELETE', `/api/v1/integrations/${mine.id}`)).statusCode).toBe(404);
      expect((await as('POST', `/api/v1/integrations/${mine.id}/rotate-token`)).statusCode).toBe(404);
      const theirList = await as('GET', '/api/v1/integrations');
      expect(theirList.statusCode).toBe(200);
      expect(theirList.json().items).toEqual([]);
      // Alerts an integration records belong to its own organisation.
      const res = await post(
        env.app,
        mine.id,
        mine.token,
        JSON.stringify(eveAlert({ alert: { ...eveAlert().alert, signature_id: 77 } })),
      );
      expect(res.json()).toMatchObject({ alerts: 1 });
      const theirAlerts = await env.app.inject({
        method: 'GET',
        url: '/api/v1/alerts?source=suricata:ids-private',
        headers: { authorization: `Bearer ${otherToken}` },
      });
      expect(theirAlerts.json().items).toEqual([]);
      expect(
        (await env.call('viewer', 'GET', '/api/v1/alerts?source=suricata:ids-private')).json().items,
      ).toHaveLength(1);
    });

    it('keeps valid Suricata alerts, names bad lines, and answers 503 for events without an intake', async () => {
      const ids = await create({ type: 'suricata', name: 'ids-no-intake' });
      const body = [
        JSON.stringify(eveAlert()),
        JSON.stringify(EVE_DNS),
        '{"event_type":"alert","alert":{"signature":"x"}}',
        JSON.stringify(eveAlert({ timestamp: '2026-03-01T08:30:00.000000+0000' })),
      ].join('\n');
      const res = await post(env.app, ids.id, ids.token, body, 'application/x-ndjson');
      expect(res.statusCode, res.body).toBe(202);
      const answer = WebhookAnswer.parse(res.json());
      expect(answer).toMatchObject({ accepted: 2, alerts: 2, events: 0 });
      expect(answer.errors.map((e) => [e.index, e.code, e.field])).toEqual([
        [1, 'intake_unavailable', undefined],
        [2, 'invalid_item', 'alert.signature_id'],
      ]);
      // Same signature, same address pair, same hour: one alert counted twice.
      const key = 'suricata:1:2024897:10.0.0.20|203.0.113.50:2026-03-01T08:00:00.000Z';
      const alert = await alertByKey(key);
      expect(alert).toMatchObject({
        occurrence_count: 2,
        severity: 'medium',
        source: 'suricata:ids-no-intake',
      });
      expect(alert.observables.map((o) => `${o.type}:${o.value}`).sort()).toEqual([
        'domain:intranet.example.com',
        'ip:10.0.0.20',
        'ip:203.0.113.50',
      ]);

      const onlyEvents = await post(
        env.app,
        ids.id,
        ids.token,
        `${JSON.stringify(EVE_FLOW)}\n`,
        'text/plain',
      );
      expect(onlyEvents.statusCode).toBe(503);
      expect(onlyEvents.json().error).toMatchObject({ code: 'intake_unavailable' });

      const nothingValid = await post(env.app, ids.id, ids.token, '{"event_type":"alert","alert":{}}', '');
      expect(nothingValid.statusCode).toBe(400);
      expect(nothingValid.json().error).toMatchObject({ code: 'invalid_payload', field: 'alert.signature' });
      const notJson = await post(env.app, ids.id, ids.token, 'hello\nworld');
      expect(notJson.statusCode).toBe(400);
      expect(notJson.json().error.code).toBe('invalid_json');
      const empty = await post(env.app, ids.id, ids.token, '');
      expect(empty.statusCode).toBe(400);
    });

    it('hands Suricata events to the intake, and refuses the whole post when the backlog is full', async () => {
      const submitted: ReceivedEvent[] = [];
      let full = false;
      const intake: EventIntake = {
        submit: (events) => {
          if (full)
            return Promise.reject(new RateLimitedError('backlog_full', 'the event backlog is full', 3));
          submitted.push(...events);
          return Promise.resolve();
        },
      };
      const app = await buildApi({
        context: { ...env.context, intake },
        throttle: {
          account: new FailureRateLimiter(env.clock, 5, 60_000),
          address: new FailureRateLimiter(env.clock, 5, 60_000),
        },
        policy: { idleMinutes: 60, maxHours: 24 },
        secureCookies: false,
        bodyLimit: BODY_LIMIT,
        trustProxy: false,
        version: 'test',
        publicUrl: 'https://firebreak.example.org/',
      });
      try {
        const created = await app.inject({
          method: 'POST',
          url: '/api/v1/integrations',
          headers: { authorization: `Bearer ${env.tokens.admin}` },
          payload: { type: 'suricata', name: 'ids-intake' },
        });
        const ids = IntegrationWire.parse(created.json());
        expect(ids.url).toBe(`https://firebreak.example.org/api/v1/integrations/${ids.id}/webhook`);
        const signature = { ...eveAlert().alert, signature_id: 9_000_001 };
        const body = JSON.stringify([EVE_DNS, eveAlert({ alert: signature }), EVE_FLOW]);
        const res = await post(app, ids.id, ids.token!, body);
        expect(res.statusCode, res.body).toBe(202);
        expect(res.json()).toEqual({ accepted: 3, alerts: 1, resolved: 0, events: 2, errors: [] });
        expect(submitted.map((e) => [e.orgId, e.format, e.source.kind, e.source.name, e.raw])).toEqual([
          [env.orgId, 'suricata', 'webhook', 'ids-intake', EVE_DNS],
          [env.orgId, 'suricata', 'webhook', 'ids-intake', EVE_FLOW],
        ]);
        expect(submitted[0]!.receivedAt).toBe(env.clock.now().toISOString());

        full = true;
        const other = { ...signature, signature_id: 9_000_002 };
        const refused = await post(
          app,
          ids.id,
          ids.token!,
          JSON.stringify([EVE_DNS, eveAlert({ alert: other })]),
        );
        expect(refused.statusCode).toBe(429);
        expect(refused.headers['retry-after']).toBe('3');
        const written = await env.context.database.db
          .selectFrom('alerts')
          .select('id')
          .where('rule', '=', '1:9000002:3')
          .execute();
        expect(written).toEqual([]);
      } finally {
        await app.close();
      }
    });

    it('maps Wazuh alerts with their observables', async () => {
      const w = await create({ type: 'wazuh', name: 'wazuh-map' });
      const res = await post(
        env.app,
        w.id,
        w.token,
        JSON.stringify(wazuhAlert({ agent: { id: '042', name: 'WEB-09' } })),
      );
      expect(res.json()).toMatchObject({ alerts: 1 });
      const alert = await alertByKey('wazuh:5712:042:198.51.100.23');
      expect(alert).toMatchObject({ severity: 'high', rule: '5712', source: 'wazuh:wazuh-map' });
      expect(alert.observables.map((o) => `${o.type}:${o.value}`).sort()).toEqual([
        'host:web-09',
        'ip:198.51.100.23',
        'user:admin',
      ]);
    });

    it('maps generic JSON with the integration mapping, skipping invalid observables', async () => {
      const g = await create({
        type: 'generic',
        name: 'uptime',
        mapping: {
          title: '/monitor/name',
          severity: '/status',
          severity_map: { down: 'critical' },
          dedup_key: '/monitor/id',
          description: '/msg',
          timestamp: '/time',
          observables: [
            { type: 'ip', path: '/ips' },
            { type: 'url', path: '/monitor/url' },
          ],
        },
      });
      expect(g.mapping).toMatchObject({ title: '/monitor/name', default_severity: 'medium' });
      const item = (id: number, status: string) => ({
        monitor: { id, name: `Monitor ${id}`, url: 'https://shop.example.com/health' },
        status,
        msg: 'timeout',
        time: '2026-03-01T08:59:00Z',
        ips: ['192.0.2.10', '999.1.1.1'],
      });
      const res = await post(
        env.app,
        g.id,
        g.token,
        JSON.stringify([item(1, 'down'), { status: 'down' }, item(2, 'up')]),
      );
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({
        accepted: 2,
        alerts: 2,
        errors: [{ index: 1, code: 'invalid_item', field: '/monitor/name' }],
      });
      const alert = await alertByKey(`generic:${g.id}:1`);
      expect(alert).toMatchObject({
        title: 'Monitor 1',
        severity: 'critical',
        source: 'generic:uptime',
        description: 'timeout',
        first_seen: '2026-03-01T08:59:00.000Z',
      });
      expect(alert.observables.map((o) => `${o.type}:${o.value}`).sort()).toEqual([
        'ip:192.0.2.10',
        'url:https://shop.example.com/health',
      ]);
      expect((await alertByKey(`generic:${g.id}:2`)).severity).toBe('medium');
    });

    it('refuses bodies over the limit with 413', async () => {
      const g = await create({ type: 'generic', name: 'big', mapping: { title: '/t' } });
      const big = JSON.stringify({ t: 'x', pad: 'y'.repeat(BODY_LIMIT) });
      const res = await post(env.app, g.id, g.token, big);
      expect(res.statusCode).toBe(413);
      expect(res.json().error.code).toBe('body_too_large');
    });

    it('documents the routes in OpenAPI', async () => {
      const doc = (await env.call(null, 'GET', '/api/v1/openapi.json')).json();
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/integrations',
          '/api/v1/integrations/{id}',
          '/api/v1/integrations/{id}/rotate-token',
          '/api/v1/integrations/{id}/webhook',
        ]),
      );
    });
  });
});
