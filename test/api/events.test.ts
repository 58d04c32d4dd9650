import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createApiEnv, createOtherOrg, type ApiEnv, type TestIngestion } from '../support/harness.js';
import { actorForUser, createApiToken } from '../../src/services/identity.js';
import { findUser } from '../../src/storage/identity-repository.js';

announceSkips();

const SSH_FAILURE =
  '<38>Nov 27 04:00:00 web1 sshd[4242]: Failed password for root from 203.0.113.9 port 50022 ssh2';

for (const engine of ENGINES) {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? `events API on ${engine.name}`, () => {
    let env: ApiEnv & { ingestion: TestIngestion | null };
    let ingestion: TestIngestion;

    beforeAll(async () => {
      env = await createApiEnv(engine, { ingestion: {} });
      ingestion = env.ingestion!;
    });
    afterAll(async () => {
      await env?.close();
    });

    const post = (
      body: string | Buffer,
      contentType: string,
      query = '',
      headers: Record<string, string> = {},
      role: 'admin' | 'responder' | 'viewer' | null = 'responder',
    ) =>
      env.app.inject({
        method: 'POST',
        url: `/api/v1/events${query}`,
        headers: {
          'content-type': contentType,
          ...(role ? { authorization: `Bearer ${env.tokens[role]}` } : {}),
          ...headers,
        },
        payload: body,
      });

    it('takes text lines, parses them, and finds them by normalised field', async () => {
      const response = await post(`${SSH_FAILURE}\n\n`, 'text/plain', '?format=syslog&source=web1');
      expect(response.statusCode).toBe(202);
      expect(response.json()).toEqual({ accepted: 1, rejected: 0, errors: [], duplicate: false });
      await ingestion.drain();
      const found = await env.call('viewer', 'GET', '/api/v1/events?q=source.ip:203.0.113.9');
      expect(found.statusCode).toBe(200);
      const items = found.json().items as Array<Record<string, unknown>>;
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        parser: 'openssh',
        format: 'syslog',
        source: { kind: 'http', name: 'web1' },
        raw: SSH_FAILURE,
        fields: { 'user.name': 'root', 'event.outcome': 'failure' },
      });
      // "Where else did we see this address?" answers from events too.
      const lookup = await env.call('viewer', 'GET', '/api/v1/observables/lookup?type=ip&value=203.0.113.9');
      expect(lookup.statusCode).toBe(200);
      expect(lookup.json().events).toMatchObject({ count: 1, last_event_id: items[0]!.id });
      expect((await post(`${SSH_FAILURE}\n${SSH_FAILURE}`, 'text/plain', '?format=syslog')).statusCode).toBe(
        202,
      );
      await ingestion.drain();
      const again = await env.call('viewer', 'GET', '/api/v1/observables/lookup?type=ip&value=203.0.113.9');
      expect(again.json().events.count).toBe(3);
      const none = await env.call('viewer', 'GET', '/api/v1/observables/lookup?type=ip&value=192.0.2.77');
      expect(none.json().events).toBeNull();
    });

    it('keeps the valid NDJSON lines and lists the bad ones by line number', async () => {
      const body = ['{"message":"one","user":{"name":"eve"}}', 'not json', '{"message":"three"}', '[1]'].join(
        '\n',
      );
      const response = await post(body, 'application/x-ndjson', '?source=app');
      expect(response.statusCode).toBe(202);
      expect(response.json()).toMatchObject({
        accepted: 2,
        rejected: 2,
        errors: [{ line: 2 }, { line: 4, error: 'expected a JSON object' }],
      });
      await ingestion.drain();
      const found = await env.call('viewer', 'GET', '/api/v1/events?q=three');
      expect(found.json().items).toHaveLength(1);
      expect(found.json().items[0].raw).toEqual({ message: 'three' });
    });

    it('takes a CloudTrail document as it is stored: each record an event', async () => {
      const trail = (name: string) => ({
        eventTime: '2026-03-02T09:00:00Z',
        eventSource: 'iam.amazonaws.com',
        eventName: name,
        userIdentity: { userName: 'mallory' },
      });
      const body = JSON.stringify({ Records: [trail('CreateAccessKey'), trail('AttachUserPolicy')] });
      const response = await post(body, 'application/json', '?source=cloudtrail');
      expect(response.statusCode).toBe(202);
      expect(response.json()).toMatchObject({ accepted: 2, rejected: 0 });
      await ingestion.drain();
      const found = await env.call('viewer', 'GET', '/api/v1/events?q=AttachUserPolicy');
      expect(found.json().items).toHaveLength(1);
      expect(found.json().items[0].raw).toEqual(trail('AttachUserPolicy'));
    });

    it('stores a batch once when it comes again with the same Idempotency-Key, before and after the pipeline stored it', async () => {
      const marker = `idem${Date.now()}`;
      const body = [`{"message":"${marker} one"}`, 'broken', `{"message":"${marker} two"}`].join('\n');
      const key = { 'idempotency-key': `batch-${marker}` };
      const first = await post(body, 'application/x-ndjson', '', key);
      expect(first.statusCode).toBe(202);
      expect(first.json()).toMatchObject({ accepted: 2, rejected: 1, duplicate: false });
      // A retry at once (the sender timed out), and one after the pipeline stored the first.
      const retry = await post(body, 'application/x-ndjson', '', key);
      expect(retry.statusCode).toBe(202);
      expect(retry.json()).toMatchObject({
        accepted: 2,
        rejected: 1,
        errors: [{ line: 2 }],
        duplicate: true,
      });
      await ingestion.drain();
      const later = await post(body, 'application/x-ndjson', '', key);
      expect(later.json()).toMatchObject({ accepted: 2, duplicate: true });
      // Another key is another batch.
      const other = await post(body, 'application/x-ndjson', '', { 'idempotency-key': `other-${marker}` });
      expect(other.json()).toMatchObject({ accepted: 2, duplicate: false });
      await ingestion.drain();
      const found = await env.call('viewer', 'GET', `/api/v1/events?q=${marker}&limit=100`);
      expect(found.json().items).toHaveLength(4);

      const bad = await post(body, 'application/x-ndjson', '', { 'idempotency-key': 'has a space' });
      expect(bad.statusCode).toBe(400);
      expect(JSON.stringify(bad.json())).toContain('idempotency-key');
    });

    it('inflates gzip bodies, refuses gzip bombs with 413 and broken gzip with 400', async () => {
      const ok = await post(
        gzipSync(Buffer.from('[{"message":"zipped-one"},{"message":"zipped-two"}]')),
        'application/json',
        '',
        { 'content-encoding': 'gzip' },
      );
      expect(ok.statusCode).toBe(202);
      expect(ok.json().accepted).toBe(2);

      const bomb = gzipSync(Buffer.alloc(70 * 1024 * 1024, 0x20), { level: 1 });
      expect(bomb.length).toBeLessThan(1024 * 1024);
      const refused = await post(bomb, 'text/plain', '', { 'content-encoding': 'gzip' });
      expect(refused.statusCode).toBe(413);
      expect(refused.json().error.code).toBe('body_too_large');

      const broken = await post(Buffer.from('not gzip at all'), 'text/plain', '', {
        'content-encoding': 'gzip',
      });
      expect(broken.statusCode).toBe(400);
      expect(broken.json().error).toMatchObject({ code: 'invalid_gzip', field: 'body' });
    });

    it('answers 400 naming the body when nothing is valid, 415 for other media types, 413 over the limit', async () => {
      const none = await post('nope\n[]', 'application/x-ndjson');
      expect(none.statusCode).toBe(400);
      expect(none.json().error).toMatchObject({ code: 'no_valid_events', field: 'body' });
      expect(none.json().error.message).toMatch(/line 1/);

      const xml = await post('<a/>', 'application/xml');
      expect(xml.statusCode).toBe(415);

      const huge = await post(Buffer.alloc(16 * 1024 * 1024 + 10, 0x61), 'text/plain');
      expect(huge.statusCode).toBe(413);

      const badFormat = await post('x', 'text/plain', '?format=klingon');
      expect(badFormat.statusCode).toBe(400);
      expect(badFormat.json().error.field).toBe('querystring.format');
    });

    it('lets viewers search but not send, and refuses anonymous callers', async () => {
      expect((await post('x', 'text/plain', '', {}, 'viewer')).statusCode).toBe(403);
      expect((await post('x', 'text/plain', '', {}, null)).statusCode).toBe(401);
      expect((await env.call(null, 'GET', '/api/v1/events')).statusCode).toBe(401);
    });

    it('pages newest first with a cursor, filters by time, and names q in search errors', async () => {
      const lines = Array.from({ length: 5 }, (_, i) =>
        JSON.stringify({ message: `page-${i}`, '@timestamp': `2026-05-0${i + 1}T00:00:00Z` }),
      );
      expect((await post(lines.join('\n'), 'application/x-ndjson')).statusCode).toBe(202);
      await ingestion.drain();
      const first = await env.call('viewer', 'GET', '/api/v1/events?q=page-&limit=2');
      expect(first.json().items.map((e: { raw: { message: string } }) => e.raw.message)).toEqual([
        'page-4',
        'page-3',
      ]);
      const cursor = first.json().next_cursor as string;
      const second = await env.call('viewer', 'GET', `/api/v1/events?q=page-&limit=2&cursor=${cursor}`);
      expect(second.json().items.map((e: { raw: { message: string } }) => e.raw.message)).toEqual([
        'page-2',
        'page-1',
      ]);
      const ranged = await env.call(
        'viewer',
        'GET',
        '/api/v1/events?q=page-&from=2026-05-02T00:00:00Z&to=2026-05-04T00:00:00Z',
      );
      expect(ranged.json().items.map((e: { raw: { message: string } }) => e.raw.message)).toEqual([
        'page-2',
        'page-1',
      ]);
      const bad = await env.call('viewer', 'GET', '/api/v1/events?q=user.name:"open');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.field).toBe('q');
    });

    it("never shows another organisation's events", async () => {
      const other = await createOtherOrg(env);
      const user = await findUser(env.context.database.db, other.orgId, other.responder.id);
      const token = await createApiToken(env.context, actorForUser(user!), { userId: user!.id, name: 't' });
      const response = await env.app.inject({
        method: 'GET',
        url: '/api/v1/events?q=source.ip:203.0.113.9',
        headers: { authorization: `Bearer ${token.secret}` },
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().items).toEqual([]);
    });
  });
}

for (const engine of ENGINES) {
  describe.skipIf(engine.skipReason !== null)(
    engine.skipReason ?? `events back-pressure on ${engine.name}`,
    () => {
      let env: ApiEnv & { ingestion: TestIngestion | null };
      beforeAll(async () => {
        env = await createApiEnv(engine, { ingestion: { spoolMaxBytes: 1024 * 1024 } });
      });
      afterAll(async () => {
        await env?.close();
      });

      it('answers 429 with Retry-After while the spool is full, keeps nothing of that call, and takes events again once drained', async () => {
        await env.ingestion!.pipeline.stop();
        const line = JSON.stringify({ message: 'x'.repeat(900) });
        const batch = Array.from({ length: 600 }, () => line).join('\n');
        const statuses: number[] = [];
        let refused: { status: number; retryAfter: string | undefined } | null = null;
        for (let i = 0; i < 5 && refused === null; i++) {
          const response = await env.app.inject({
            method: 'POST',
            url: '/api/v1/events',
            headers: {
              'content-type': 'application/x-ndjson',
              authorization: `Bearer ${env.tokens.responder}`,
            },
            payload: batch,
          });
          statuses.push(response.statusCode);
          if (response.statusCode === 429) {
            refused = { status: 429, retryAfter: response.headers['retry-after'] as string | undefined };
          }
        }
        expect(refused).not.toBeNull();
        expect(Number(refused!.retryAfter)).toBeGreaterThan(0);
        const acceptedCalls = statuses.filter((s) => s === 202).length;
        env.ingestion!.pipeline.start();
        await env.ingestion!.drain();
        const stored = await env.context.database.db
          .selectFrom('events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(stored.n)).toBe(acceptedCalls * 600);
        const after = await env.app.inject({
          method: 'POST',
          url: '/api/v1/events',
          headers: { 'content-type': 'text/plain', authorization: `Bearer ${env.tokens.responder}` },
          payload: 'back again',
        });
        expect(after.statusCode).toBe(202);
      });
    },
  );
}
