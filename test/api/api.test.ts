import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AlertSummaryWire,
  AlertWire,
  IncidentWire,
  listOf,
  LookupWire,
  NoteWire,
  ObservableWire,
  pageOf,
  TaskWire,
  TimelineEntryWire,
  TokenWire,
  UserWire,
} from '../../src/api/wire-schemas.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createApiEnv, createOtherOrg, PASSWORD, type ApiEnv } from '../support/harness.js';
import { createApiToken } from '../../src/services/identity.js';

announceSkips();

describe.each(ENGINES)('HTTP API on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let env: ApiEnv;
    beforeAll(async () => {
      env = await createApiEnv(engine, { bodyLimit: 64 * 1024 });
    });
    afterAll(async () => {
      await env?.close();
    });

    const auditCount = async () =>
      (
        await env.context.database.db
          .selectFrom('audit_log')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n;
    const incidentCount = async () =>
      Number(
        (
          await env.context.database.db
            .selectFrom('incidents')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('serves the console (or how to build it) at / and a JSON 404 naming unknown API routes', async () => {
      const root = await env.call(null, 'GET', '/');
      expect(root.statusCode).toBe(200);
      expect(root.headers['content-type']).toContain('text/html');
      expect(root.body).toMatch(/Firebreak/);
      const missing = await env.call(null, 'GET', '/api/v1/nothing-here?x=1');
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error).toMatchObject({
        code: 'route_not_found',
        message: 'no route GET /api/v1/nothing-here',
      });
    });

    it('answers health without credentials', async () => {
      const res = await env.call(null, 'GET', '/api/v1/health');
      expect(res.statusCode).toBe(200);
      expect(res.headers).toMatchObject({
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      });
      expect(res.json()).toMatchObject({ status: 'ok', database: engine.name });
    });

    it('runs an incident through every phase and reads its timeline', async () => {
      const created = await env.call('responder', 'POST', '/api/v1/incidents', {
        title: 'Data leak via S3',
        severity: 'high',
        category: 'data_breach',
        personal_data: true,
      });
      expect(created.statusCode).toBe(201);
      const incident = created.json();
      expect(incident).toMatchObject({ phase: 'analysis', personal_data: true, category: 'data_breach' });
      for (const to of ['containment', 'remediation', 'follow_up']) {
        const moved = await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/transitions`, {
          to,
        });
        expect(moved.statusCode).toBe(200);
        expect(moved.json().phase).toBe(to);
      }
      const refused = await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/transitions`, {
        to: 'closed',
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error).toMatchObject({
        code: 'review_summary_required',
        field: 'review_summary',
      });
      const closed = await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/transitions`, {
        to: 'closed',
        review_summary: 'Bucket policy fixed; DPA notified.',
      });
      expect(closed.json()).toMatchObject({
        phase: 'closed',
        review_summary: 'Bucket policy fixed; DPA notified.',
      });
      const back = await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/transitions`, {
        to: 'analysis',
      });
      expect(back.statusCode).toBe(400);
      expect(back.json().error.code).toBe('reason_required');
      const timeline = await env.call('viewer', 'GET', `/api/v1/incidents/${incident.id}/timeline`);
      const items = timeline.json().items as Array<{
        action: string;
        actor: { kind: string };
        changes: { to?: string };
      }>;
      expect(items.map((i) => i.action)).toEqual([
        'incident.created',
        ...Array(4).fill('incident.transitioned'),
      ]);
      expect(items.map((i) => i.changes.to).slice(1)).toEqual([
        'containment',
        'remediation',
        'follow_up',
        'closed',
      ]);
      expect(items[0]!.actor.kind).toBe('token');
      const paged = await env.call('viewer', 'GET', `/api/v1/incidents/${incident.id}/timeline?limit=2`);
      const next = await env.call(
        'viewer',
        'GET',
        `/api/v1/incidents/${incident.id}/timeline?limit=2&cursor=${paged.json().next_cursor}`,
      );
      expect(next.json().items.map((i: { action: string }) => i.action)).toEqual([
        'incident.transitioned',
        'incident.transitioned',
      ]);
    });

    it('closes from analysis only with a resolution', async () => {
      const incident = (
        await env.call('responder', 'POST', '/api/v1/incidents', { title: 'Scanner noise', severity: 'low' })
      ).json();
      const res = await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/transitions`, {
        to: 'closed',
        resolution: 'maybe',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe('resolution');
      const ok = await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/transitions`, {
        to: 'closed',
        resolution: 'false_positive',
      });
      expect(ok.json()).toMatchObject({ phase: 'closed', resolution: 'false_positive' });
      const skip = (
        await env.call('responder', 'POST', '/api/v1/incidents', { title: 'x', severity: 'low' })
      ).json();
      const skipped = await env.call('responder', 'POST', `/api/v1/incidents/${skip.id}/transitions`, {
        to: 'remediation',
      });
      expect(skipped.statusCode).toBe(409);
      expect(skipped.json().error.code).toBe('transition_not_allowed');
    });

    it('rejects bad input naming the field, and writes nothing', async () => {
      const before = [await incidentCount(), await auditCount()];
      const cases: Array<[unknown, string, string]> = [
        [{ title: 'x', severity: 'urgent' }, 'severity', 'invalid_request'],
        [{ title: 42, severity: 'low' }, 'title', 'invalid_request'],
        [{ title: '   ', severity: 'low' }, 'title', 'invalid_request'],
        [{ title: 'x', severity: 'low', colour: 'red' }, 'colour', 'invalid_request'],
        [{ severity: 'low' }, 'title', 'invalid_request'],
        [{ title: 'x', severity: 'low', personal_data: 'yes' }, 'personal_data', 'invalid_request'],
        [{ title: 'x', severity: 'low', detected_at: 'yesterday' }, 'detected_at', 'invalid_request'],
      ];
      for (const [body, field, code] of cases) {
        const res = await env.call('responder', 'POST', '/api/v1/incidents', body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json().error.code).toBe(code);
        expect(res.json().error.field).toBe(field);
      }
      const badJson = await env.call('responder', 'POST', '/api/v1/incidents', '{"title": ', {
        'content-type': 'application/json',
      });
      expect(badJson.statusCode).toBe(400);
      expect(badJson.json().error.code).toBe('invalid_json');
      const huge = await env.call('responder', 'POST', '/api/v1/incidents', {
        title: 'big',
        severity: 'low',
        description: 'x'.repeat(80 * 1024),
      });
      expect(huge.statusCode).toBe(413);
      expect(huge.json().error.code).toBe('body_too_large');
      const badQuery = await env.call('viewer', 'GET', '/api/v1/incidents?limit=100000&phase=open');
      expect(badQuery.statusCode).toBe(400);
      expect(
        badQuery
          .json()
          .error.fields.map((f: { field: string }) => f.field)
          .sort(),
      ).toEqual(['querystring.limit', 'querystring.phase[0]']);
      const badId = await env.call('viewer', 'GET', '/api/v1/incidents/not-a-uuid');
      expect(badId.statusCode).toBe(400);
      expect(badId.json().error.field).toBe('params.id');
      const badObservable = await env.call('responder', 'POST', '/api/v1/alerts', {
        title: 't',
        severity: 'low',
        source: 's',
        observables: [{ type: 'hash_sha256', value: 'abc' }],
      });
      expect(badObservable.statusCode).toBe(400);
      expect(badObservable.json().error.field).toBe('observables[0].value');
      expect([await incidentCount(), await auditCount()]).toEqual(before);
    });

    it('deduplicates alerts, promotes one and merges others in bulk', async () => {
      const post = (n: number) =>
        env.call('responder', 'POST', '/api/v1/alerts', {
          title: 'Impossible travel',
          severity: 'high',
          source: 'idp',
          dedup_key: 'travel:bob',
          observables: [
            { type: 'user', value: 'Bob' },
            { type: 'ip', value: `198.51.100.${n}` },
          ],
        });
      const first = await post(1);
      expect(first.statusCode).toBe(201);
      const second = await post(2);
      expect(second.statusCode).toBe(200);
      expect(second.json()).toMatchObject({ id: first.json().id, occurrence_count: 2, deduplicated: true });
      const other = (
        await env.call('responder', 'POST', '/api/v1/alerts', {
          title: 'MFA fatigue',
          severity: 'medium',
          source: 'idp',
          observables: [{ type: 'user', value: 'bob' }],
        })
      ).json();
      const promoted = await env.call('responder', 'POST', `/api/v1/alerts/${first.json().id}/promote`, {
        category: 'account_compromise',
      });
      expect(promoted.statusCode).toBe(201);
      const incident = promoted.json();
      expect(incident).toMatchObject({
        title: 'Impossible travel',
        severity: 'high',
        category: 'account_compromise',
      });
      const merged = await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/alerts`, {
        alert_ids: [other.id],
      });
      expect(merged.statusCode).toBe(200);
      const linked = (await env.call('viewer', 'GET', `/api/v1/incidents/${incident.id}/alerts`)).json();
      expect(linked.items.map((a: { id: string }) => a.id).sort()).toEqual(
        [first.json().id, other.id].sort(),
      );
      expect(linked.items.every((a: { status: string }) => a.status === 'escalated')).toBe(true);
      const lookup = (
        await env.call('viewer', 'GET', '/api/v1/observables/lookup?type=user&value=BOB')
      ).json();
      expect(lookup.incidents.map((i: { id: string }) => i.id)).toEqual([incident.id]);
      expect(lookup.alerts.map((a: { id: string }) => a.id).sort()).toEqual(
        [first.json().id, other.id].sort(),
      );
      const again = await env.call('responder', 'POST', `/api/v1/alerts/${other.id}/promote`);
      expect(again.statusCode).toBe(409);
    });

    it('supports tasks, notes and observables inside an incident', async () => {
      const incident = (
        await env.call('responder', 'POST', '/api/v1/incidents', {
          title: 'Malware on laptop',
          severity: 'medium',
          category: 'malware',
        })
      ).json();
      const task = (
        await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/tasks`, {
          title: 'Reimage laptop',
          assignee_id: env.users.responder.id,
        })
      ).json();
      const done = await env.call('responder', 'PATCH', `/api/v1/incidents/${incident.id}/tasks/${task.id}`, {
        status: 'done',
      });
      expect(done.json()).toMatchObject({ status: 'done', assignee_id: env.users.responder.id });
      expect(done.json().completed_at).not.toBeNull();
      const note = await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/notes`, {
        body: '## Findings\nDropper in `%TEMP%`',
      });
      expect(note.statusCode).toBe(201);
      const editByOther = await env.call(
        'admin',
        'PATCH',
        `/api/v1/incidents/${incident.id}/notes/${note.json().id}`,
        { body: 'rewritten' },
      );
      expect(editByOther.statusCode).toBe(403);
      const obs = await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/observables`, {
        type: 'hash_sha256',
        value: 'A'.repeat(64),
        ioc: true,
      });
      expect(obs.statusCode).toBe(201);
      expect(obs.json()).toMatchObject({ value: 'a'.repeat(64), ioc: true });
      const timeline = (await env.call('viewer', 'GET', `/api/v1/incidents/${incident.id}/timeline`)).json();
      expect(timeline.items.map((i: { action: string }) => i.action)).toEqual([
        'incident.created',
        'task.created',
        'task.updated',
        'note.added',
        'incident.observable_added',
      ]);
    });

    it('lets a viewer read but not write, and audits the denial', async () => {
      const incident = (
        await env.call('responder', 'POST', '/api/v1/incidents', { title: 'Viewer test', severity: 'low' })
      ).json();
      expect((await env.call('viewer', 'GET', `/api/v1/incidents/${incident.id}`)).statusCode).toBe(200);
      const writes: Array<['POST' | 'PATCH', string, unknown]> = [
        ['POST', '/api/v1/incidents', { title: 'x', severity: 'low' }],
        ['PATCH', `/api/v1/incidents/${incident.id}`, { title: 'y' }],
        ['POST', `/api/v1/incidents/${incident.id}/transitions`, { to: 'containment' }],
        ['POST', '/api/v1/alerts', { title: 'x', severity: 'low', source: 's' }],
        ['POST', '/api/v1/users', { email: 'new@example.test', role: 'admin' }],
      ];
      for (const [method, url, body] of writes) {
        const res = await env.call('viewer', method, url, body);
        expect(res.statusCode, url).toBe(403);
        expect(res.json().error.code).toBe('forbidden');
      }
      expect(
        (await env.call('responder', 'POST', '/api/v1/users', { email: 'n@example.test', role: 'admin' }))
          .statusCode,
      ).toBe(403);
      expect((await env.call('viewer', 'GET', `/api/v1/incidents/${incident.id}`)).json().title).toBe(
        'Viewer test',
      );
      const denials = await env.context.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'auth.denied')
        .execute();
      expect(denials.length).toBeGreaterThanOrEqual(writes.length + 1);
    });

    it("answers 404 for another organisation's records", async () => {
      const other = await createOtherOrg(env);
      const issued = await createApiToken(env.context, other.responder, {
        userId: other.responder.id,
        name: 'other',
      });
      const incident = (
        await env.call('responder', 'POST', '/api/v1/incidents', { title: 'Ours', severity: 'low' })
      ).json();
      const alert = (
        await env.call('responder', 'POST', '/api/v1/alerts', { title: 'Ours', severity: 'low', source: 's' })
      ).json();
      const as = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) =>
        env.app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${issued.secret}` },
          ...(body ? { payload: body as object } : {}),
        });
      for (const [method, url, body] of [
        ['GET', `/api/v1/incidents/${incident.id}`, undefined],
        ['PATCH', `/api/v1/incidents/${incident.id}`, { title: 'stolen' }],
        ['GET', `/api/v1/incidents/${incident.id}/timeline`, undefined],
        ['POST', `/api/v1/incidents/${incident.id}/transitions`, { to: 'containment' }],
        ['GET', `/api/v1/alerts/${alert.id}`, undefined],
        ['POST', `/api/v1/alerts/${alert.id}/promote`, undefined],
      ] as const) {
        const res = await as(method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(404);
      }
      const list = await as('GET', '/api/v1/incidents?limit=500');
      expect(list.json().items.find((i: { id: string }) => i.id === incident.id)).toBeUndefined();
    });

    it('signs in with a session cookie, requires the CSRF header for writes, and signs out', async () => {
      const login = await env.call(null, 'POST', '/api/v1/auth/login', {
        email: 'responder@example.test',
        password: PASSWORD,
      });
      expect(login.statusCode).toBe(200);
      const cookie = login.cookies.find((c) => c.name === 'firebreak_session')!;
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      const { csrf_token } = login.json();
      const headers = { cookie: `firebreak_session=${cookie.value}` };
      expect((await env.call(null, 'GET', '/api/v1/incidents', undefined, headers)).statusCode).toBe(200);
      const noCsrf = await env.call(
        null,
        'POST',
        '/api/v1/incidents',
        { title: 'x', severity: 'low' },
        headers,
      );
      expect(noCsrf.statusCode).toBe(403);
      expect(noCsrf.json().error.code).toBe('csrf_failed');
      const withCsrf = await env.call(
        null,
        'POST',
        '/api/v1/incidents',
        { title: 'via session', severity: 'low' },
        { ...headers, 'x-csrf-token': csrf_token },
      );
      expect(withCsrf.statusCode).toBe(201);
      expect(
        (
          await env.call(null, 'POST', '/api/v1/auth/logout', undefined, {
            ...headers,
            'x-csrf-token': csrf_token,
          })
        ).statusCode,
      ).toBe(204);
      const after = await env.call(null, 'GET', '/api/v1/incidents', undefined, headers);
      expect(after.statusCode).toBe(401);
      expect(after.json().error.code).toBe('session_expired');
    });

    it('ends idle sessions', async () => {
      const login = await env.call(null, 'POST', '/api/v1/auth/login', {
        email: 'viewer@example.test',
        password: PASSWORD,
      });
      const headers = { cookie: `firebreak_session=${login.cookies[0]!.value}` };
      env.clock.advance(61 * 60_000);
      expect((await env.call(null, 'GET', '/api/v1/incidents', undefined, headers)).statusCode).toBe(401);
    });

    it('rate-limits failed sign-ins per account and says when to retry', async () => {
      const attempt = (password: string) =>
        env.call(null, 'POST', '/api/v1/auth/login', { email: 'admin@example.test', password });
      for (let i = 0; i < 5; i += 1) {
        const res = await attempt('wrong password');
        expect(res.statusCode).toBe(401);
        expect(res.json().error.code).toBe('invalid_credentials');
      }
      const locked = await attempt(PASSWORD);
      expect(locked.statusCode).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      env.clock.advance(16 * 60_000);
      expect((await attempt(PASSWORD)).statusCode).toBe(200);
      const failures = await env.context.database.db
        .selectFrom('audit_log')
        .select('changes')
        .where('action', '=', 'auth.login_failed')
        .execute();
      expect(failures.length).toBeGreaterThanOrEqual(5);
      expect(failures.every((f) => !f.changes.includes('wrong password'))).toBe(true);
    });

    it('rate-limits failed sign-ins per client address across accounts (password spraying)', async () => {
      env.clock.advance(16 * 60_000);
      for (let i = 0; i < 8; i += 1) {
        const res = await env.call(null, 'POST', '/api/v1/auth/login', {
          email: `sprayed-${i}@example.test`,
          password: 'Winter2026!',
        });
        expect(res.statusCode).toBe(401);
      }
      const locked = await env.call(null, 'POST', '/api/v1/auth/login', {
        email: 'viewer@example.test',
        password: PASSWORD,
      });
      expect(locked.statusCode).toBe(429);
      env.clock.advance(16 * 60_000);
      expect(
        (
          await env.call(null, 'POST', '/api/v1/auth/login', {
            email: 'viewer@example.test',
            password: PASSWORD,
          })
        ).statusCode,
      ).toBe(200);
    });

    it('issues tokens shown once, stores only their hash, and revokes them', async () => {
      const created = await env.call('responder', 'POST', '/api/v1/tokens', { name: 'siem' });
      expect(created.statusCode).toBe(201);
      const { token, id } = created.json();
      expect(token).toMatch(/^fbk_/);
      const stored = await env.context.database.db
        .selectFrom('api_tokens')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain(token);
      const use = () =>
        env.app.inject({
          method: 'GET',
          url: '/api/v1/incidents',
          headers: { authorization: `Bearer ${token}` },
        });
      expect((await use()).statusCode).toBe(200);
      expect(
        (await env.call('responder', 'GET', '/api/v1/tokens'))
          .json()
          .items.some((t: { token?: string }) => t.token),
      ).toBe(false);
      expect((await env.call('responder', 'DELETE', `/api/v1/tokens/${id}`)).statusCode).toBe(200);
      expect((await use()).statusCode).toBe(401);
      expect(
        (
          await env.app.inject({
            method: 'GET',
            url: '/api/v1/incidents',
            headers: { authorization: 'Basic abc' },
          })
        ).statusCode,
      ).toBe(401);
    });

    it("streams committed changes of the caller's organisation as server-sent events", async () => {
      const address = await env.app.listen({ port: 0, host: '127.0.0.1' });
      const controller = new AbortController();
      try {
        const stream = await fetch(`${address}/api/v1/stream`, {
          headers: { authorization: `Bearer ${env.tokens.viewer}` },
          signal: controller.signal,
        });
        expect(stream.headers.get('content-type')).toBe('text/event-stream');
        const reader = stream.body!.getReader();
        const other = await createOtherOrg(env);
        const theirs = await createApiToken(env.context, other.responder, {
          userId: other.responder.id,
          name: 'o',
        });
        await env.app.inject({
          method: 'POST',
          url: '/api/v1/incidents',
          headers: { authorization: `Bearer ${theirs.secret}` },
          payload: { title: 'not yours', severity: 'low' },
        });
        const created = (
          await env.call('responder', 'POST', '/api/v1/incidents', { title: 'Live', severity: 'high' })
        ).json();
        let text = '';
        while (!text.includes(created.id)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        const events = text
          .split('\n\n')
          .filter((block) => block.startsWith('event: change'))
          .map((block) => JSON.parse(block.split('data: ')[1]!));
        expect(events).toEqual([
          {
            action: 'incident.created',
            target: { type: 'incident', id: created.id },
            incident_id: created.id,
            at: expect.any(String),
          },
        ]);
      } finally {
        controller.abort();
      }
    });

    it('answers in exactly the shapes the OpenAPI document describes', async () => {
      const parse = (schema: z.ZodType, res: { statusCode: number; json: () => unknown }) => {
        expect(res.statusCode).toBeLessThan(300);
        const result = schema.safeParse(res.json());
        expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
        return res.json() as { id: string };
      };
      const incident = parse(
        IncidentWire,
        await env.call('responder', 'POST', '/api/v1/incidents', { title: 'Shape', severity: 'low' }),
      );
      parse(pageOf(IncidentWire), await env.call('viewer', 'GET', '/api/v1/incidents?limit=3'));
      const alert = await env.call('responder', 'POST', '/api/v1/alerts', {
        title: 'Shape',
        severity: 'low',
        source: 's',
        observables: [{ type: 'domain', value: 'shape.example' }],
        payload: { a: [1] },
      });
      parse(AlertWire.extend({ deduplicated: z.boolean() }), alert);
      parse(
        AlertWire.extend({ observables: z.array(ObservableWire) }),
        await env.call('viewer', 'GET', `/api/v1/alerts/${alert.json().id}`),
      );
      parse(pageOf(AlertSummaryWire), await env.call('viewer', 'GET', '/api/v1/alerts?limit=3'));
      parse(
        IncidentWire,
        await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/alerts`, {
          alert_ids: [alert.json().id],
        }),
      );
      parse(
        ObservableWire,
        await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/observables`, {
          type: 'ip',
          value: '192.0.2.1',
        }),
      );
      parse(
        listOf(ObservableWire),
        await env.call('viewer', 'GET', `/api/v1/incidents/${incident.id}/observables`),
      );
      parse(
        TaskWire,
        await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/tasks`, { title: 't' }),
      );
      parse(
        NoteWire,
        await env.call('responder', 'POST', `/api/v1/incidents/${incident.id}/notes`, { body: 'n' }),
      );
      parse(
        pageOf(TimelineEntryWire),
        await env.call('viewer', 'GET', `/api/v1/incidents/${incident.id}/timeline`),
      );
      parse(
        LookupWire,
        await env.call('viewer', 'GET', '/api/v1/observables/lookup?type=domain&value=SHAPE.example'),
      );
      parse(listOf(UserWire), await env.call('admin', 'GET', '/api/v1/users'));
      parse(TokenWire, await env.call('viewer', 'POST', '/api/v1/tokens', { name: 'shape' }));
      parse(listOf(TokenWire), await env.call('admin', 'GET', '/api/v1/tokens'));
    });

    it('publishes an OpenAPI 3.1 document that lists every route', async () => {
      const doc = (await env.call(null, 'GET', '/api/v1/openapi.json')).json();
      expect(doc.openapi).toBe('3.1.0');
      const documented = new Set(
        Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) =>
          Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
        ),
      );
      const routes = env.app.printRoutes({ commonPrefix: false });
      expect(routes).toContain('incidents');
      for (const expected of [
        'POST /api/v1/incidents',
        'GET /api/v1/incidents',
        'GET /api/v1/incidents/{id}',
        'PATCH /api/v1/incidents/{id}',
        'POST /api/v1/incidents/{id}/transitions',
        'GET /api/v1/incidents/{id}/timeline',
        'POST /api/v1/alerts',
        'GET /api/v1/alerts',
        'POST /api/v1/alerts/{id}/promote',
        'POST /api/v1/incidents/{id}/alerts',
        'GET /api/v1/observables/lookup',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/logout',
        'GET /api/v1/health',
      ]) {
        expect(documented, expected).toContain(expected);
      }
      const createBody = doc.paths['/api/v1/incidents'].post.requestBody.content['application/json'].schema;
      expect(createBody.required).toEqual(expect.arrayContaining(['title', 'severity']));
      expect(createBody.additionalProperties).toBe(false);
      const created = doc.paths['/api/v1/incidents'].post.responses['201'].content['application/json'].schema;
      const incidentSchema = created.$ref ? doc.components.schemas[created.$ref.split('/').pop()] : created;
      expect(incidentSchema.required).toEqual(expect.arrayContaining(['id', 'phase', 'detected_at']));
      expect(doc.paths['/api/v1/incidents'].post.responses['400']).toBeDefined();
    });
  });
});
