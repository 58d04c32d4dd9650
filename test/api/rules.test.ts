import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertWire, ObservableWire, pageOf } from '../../src/api/wire-schemas.js';
import { z } from 'zod';
import {
  DetectionPolicyWire,
  RuleDetailWire,
  RuleSubmissionWire,
  RuleTestWire,
  RuleWire,
  SuppressionWire,
} from '../../src/api/rules/schema.js';
import { Detector } from '../../src/detection/detector.js';
import { prepareEvent } from '../../src/detection/event.js';
import { recordDetections } from '../../src/services/detections.js';
import { loadActiveRuleSet } from '../../src/services/rules.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createApiEnv, createOtherOrg, type ApiEnv } from '../support/harness.js';
import { createApiToken } from '../../src/services/identity.js';
import { BRUTE_FORCE, FAILED_LOGIN, ROOT_SHELL, zipOf } from '../support/rule-fixtures.js';

announceSkips();

const FAILED_ID = '6a1f0d2e-0000-4000-8000-000000000001';
const ROOT_ID = '6a1f0d2e-0000-4000-8000-000000000002';
const yamlHeaders = { 'content-type': 'application/yaml' };
const zipHeaders = { 'content-type': 'application/zip' };

describe.each(ENGINES)('rules API on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let env: ApiEnv;
    beforeAll(async () => {
      env = await createApiEnv(engine);
    });
    afterAll(async () => {
      await env?.close();
    });

    /** The harness speaks GET/POST/PATCH/DELETE; the policy is replaced with PUT. */
    const put = (role: 'admin' | 'responder', url: string, body: unknown) =>
      env.app.inject({
        method: 'PUT',
        url,
        headers: { authorization: `Bearer ${env.tokens[role]}` },
        payload: body as Record<string, unknown>,
      });
    const activeIds = async () =>
      (await loadActiveRuleSet(env.context, env.orgId)).set.rules.map((r) => r.info.id);

    it('adds rules from YAML text and JSON, versions changes and answers each document', async () => {
      const created = await env.call(
        'responder',
        'POST',
        '/api/v1/rules',
        `${FAILED_LOGIN}---\n${ROOT_SHELL}`,
        yamlHeaders,
      );
      expect(created.statusCode).toBe(201);
      const body = RuleSubmissionWire.parse(created.json());
      expect(body).toMatchObject({ created: 2, failed: 0 });
      const same = await env.call('responder', 'POST', '/api/v1/rules', { yaml: FAILED_LOGIN });
      expect(same.statusCode).toBe(200);
      expect(same.json()).toMatchObject({ unchanged: 1, results: [{ status: 'unchanged', version: 1 }] });
      const edited = await env.call('responder', 'POST', '/api/v1/rules', {
        yaml: FAILED_LOGIN.replace('level: low', 'level: medium'),
      });
      expect(edited.statusCode).toBe(201);
      expect(edited.json().results[0]).toMatchObject({ status: 'updated', version: 2 });
      const detail = RuleDetailWire.parse(
        (await env.call('viewer', 'GET', `/api/v1/rules/${FAILED_ID}`)).json(),
      );
      expect(detail).toMatchObject({
        version: 2,
        level: 'medium',
        severity: 'medium',
        kind: 'sigma',
        enabled: true,
      });
      expect(detail.versions.map((v) => [v.version, v.level])).toEqual([
        [2, 'medium'],
        [1, 'low'],
      ]);
      await env.call('responder', 'POST', '/api/v1/rules', { yaml: FAILED_LOGIN });
    });

    it('refuses rules the compiler cannot run, naming the document and the field', async () => {
      const broken = ROOT_SHELL.replace(ROOT_ID, '6a1f0d2e-0000-4000-8000-0000000000aa').replace(
        'condition: selection',
        'condition: selection and nothing',
      );
      const res = await env.call(
        'responder',
        'POST',
        '/api/v1/rules',
        `title: ok\n---\n${broken}`,
        yamlHeaders,
      );
      expect(res.statusCode).toBe(400);
      const error = res.json().error;
      expect(error.code).toBe('rules_invalid');
      expect(error.field).toBe('detection');
      const results = error.details.results as Array<{
        document: number;
        error: { field: string; message: string };
      }>;
      expect(results.map((r) => [r.document, r.error.field])).toEqual([
        [1, 'detection'],
        [2, 'detection.condition'],
      ]);
      expect(results[1]!.error.message).toContain('nothing');
      const mixed = await env.call(
        'responder',
        'POST',
        '/api/v1/rules',
        `${broken}---\n${BRUTE_FORCE}`,
        yamlHeaders,
      );
      expect(mixed.statusCode).toBe(201);
      expect(mixed.json()).toMatchObject({ created: 1, failed: 1 });
    });

    it('imports a zip archive and refuses archives past the limits', async () => {
      const zip = await zipOf({
        'sigma/rules/shell.yml': ROOT_SHELL.replace(ROOT_ID, 'zip-rule-1').replace(
          'Root shell',
          'Zipped shell',
        ),
        'sigma/README.md': '# not a rule',
      });
      const res = await env.call('responder', 'POST', '/api/v1/rules/import', zip, zipHeaders);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({
        created: 1,
        results: [{ file: 'sigma/rules/shell.yml', id: 'zip-rule-1', status: 'created' }],
      });
      // 70 MiB of zeros compress to a few kilobytes: refused by the declared total, nothing inflated.
      const bomb = await zipOf({
        'a.yml': Buffer.alloc(1024 * 1024),
        'b.yml': Buffer.alloc(3 * 1024 * 1024),
      });
      expect(bomb.length).toBeLessThan(64 * 1024);
      const refused = await env.call('responder', 'POST', '/api/v1/rules/import', bomb, zipHeaders);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.code).toBe('archive_too_large');
      const notZip = await env.call(
        'responder',
        'POST',
        '/api/v1/rules/import',
        Buffer.from('PK nothing'),
        zipHeaders,
      );
      expect(notZip.statusCode).toBe(400);
      expect(notZip.json().error.code).toBe('archive_invalid');
    });

    it('enables, disables and re-levels rules; the alerts follow', async () => {
      const off = await env.call('responder', 'PATCH', `/api/v1/rules/${ROOT_ID}`, { enabled: false });
      expect(off.statusCode).toBe(200);
      expect(off.json()).toMatchObject({ enabled: false });
      expect(await activeIds()).not.toContain(ROOT_ID);
      const on = await env.call('responder', 'PATCH', `/api/v1/rules/${ROOT_ID}`, {
        enabled: true,
        level_override: 'critical',
      });
      expect(on.json()).toMatchObject({
        enabled: true,
        level: 'high',
        level_override: 'critical',
        effective_level: 'critical',
      });
      expect(await activeIds()).toContain(ROOT_ID);
      const detector = new Detector((await loadActiveRuleSet(env.context, env.orgId)).set);
      const detections = detector.process(
        prepareEvent({
          '@timestamp': env.clock.now().toISOString(),
          'process.name': 'bash',
          'user.name': 'root',
        }),
      );
      const [recorded] = await recordDetections(env.context, env.orgId, detections);
      const alert = AlertWire.extend({ observables: z.array(ObservableWire) }).parse(
        (await env.call('viewer', 'GET', `/api/v1/alerts/${recorded!.alertId}`)).json(),
      );
      expect(alert).toMatchObject({ severity: 'critical', rule_id: ROOT_ID, source: 'sigma', rule: ROOT_ID });
      expect(recorded!.incidentOpened).toBe(true);
      const empty = await env.call('responder', 'PATCH', `/api/v1/rules/${ROOT_ID}`, {});
      expect(empty.statusCode).toBe(400);
    });

    it('tests stored rules and unsaved YAML on an event', async () => {
      const hit = await env.call('viewer', 'POST', `/api/v1/rules/${ROOT_ID}/test`, {
        event: { 'process.name': 'bash', 'user.name': 'root', 'source.ip': '203.0.113.9' },
      });
      expect(hit.statusCode).toBe(200);
      const result = RuleTestWire.parse(hit.json());
      expect(result).toMatchObject({
        matched: true,
        detections: [{ rule_id: ROOT_ID, severity: 'critical', entity: 'user.name=root' }],
      });
      expect(result.detections[0]!.observables).toEqual(
        expect.arrayContaining([
          { type: 'ip', value: '203.0.113.9' },
          { type: 'user', value: 'root' },
        ]),
      );
      const miss = await env.call('viewer', 'POST', `/api/v1/rules/${ROOT_ID}/test`, {
        event: { 'process.name': 'sh' },
      });
      expect(miss.json()).toMatchObject({ matched: false, detections: [] });
      const correlation = await env.call(
        'viewer',
        'POST',
        '/api/v1/rules/6a1f0d2e-0000-4000-8000-000000000003/test',
        {
          event: { 'event.outcome': 'failure', 'source.ip': '192.0.2.1' },
        },
      );
      expect(correlation.json().matched).toBe(false);
      expect(correlation.json().explanation).toContain('one event cannot complete it');
      const draft = await env.call('viewer', 'POST', '/api/v1/rules/test', {
        yaml: ROOT_SHELL.replace('bash', 'zsh'),
        event: { 'process.name': 'zsh', 'user.name': 'root' },
      });
      expect(draft.json()).toMatchObject({ matched: true });
      const bad = await env.call('viewer', 'POST', '/api/v1/rules/test', {
        yaml: ROOT_SHELL.replace('process.name:', 'process.name|nope:'),
        event: {},
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatchObject({ code: 'sigma_feature_unsupported', field: 'yaml' });
      expect(bad.json().error.details.path).toBe('detection.selection.process.name|nope');
    });

    it('lists rules with statistics, sortable by the false-positive share', async () => {
      const detector = new Detector((await loadActiveRuleSet(env.context, env.orgId)).set);
      const detections = ['fp-a', 'fp-b'].flatMap((user) =>
        detector.process(
          prepareEvent({
            '@timestamp': env.clock.now().toISOString(),
            'event.outcome': 'failure',
            'user.name': user,
          }),
        ),
      );
      const recorded = await recordDetections(
        env.context,
        env.orgId,
        detections.filter((d) => d.kind === 'rule'),
      );
      const dismissed = await env.call('responder', 'POST', '/api/v1/alerts/status', {
        alert_ids: [recorded[0]!.alertId],
        status: 'dismissed',
        reason: 'false_positive',
      });
      expect(dismissed.statusCode).toBe(200);
      const page = pageOf(RuleWire).parse(
        (await env.call('viewer', 'GET', '/api/v1/rules?sort=-false_positive_share&limit=1')).json(),
      );
      expect(page.items[0]).toMatchObject({
        id: FAILED_ID,
        stats: { alerts: 2, false_positives: 1, closed: 1, false_positive_share: 1 },
      });
      expect(page.next_cursor).not.toBeNull();
      const next = pageOf(RuleWire).parse(
        (
          await env.call(
            'viewer',
            'GET',
            `/api/v1/rules?sort=-false_positive_share&limit=50&cursor=${page.next_cursor}`,
          )
        ).json(),
      );
      expect(next.items.map((r) => r.id)).not.toContain(FAILED_ID);
      expect(next.items.every((r) => r.stats.false_positive_share <= 1)).toBe(true);
      const filtered = pageOf(RuleWire).parse(
        (await env.call('viewer', 'GET', '/api/v1/rules?kind=correlation&level=critical')).json(),
      );
      expect(filtered.items.map((r) => r.kind)).toEqual(['correlation']);
    });

    it('keeps the detection policy for admins', async () => {
      const policy = DetectionPolicyWire.parse(
        (await env.call('viewer', 'GET', '/api/v1/detection/policy')).json(),
      );
      expect(policy).toEqual({
        incident_min_severity: 'high',
        group_window_seconds: 3600,
        dedup_window_seconds: 3600,
      });
      const change = {
        incident_min_severity: 'medium',
        group_window_seconds: 600,
        dedup_window_seconds: 300,
      };
      expect((await put('responder', '/api/v1/detection/policy', change)).statusCode).toBe(403);
      const saved = await put('admin', '/api/v1/detection/policy', change);
      expect(saved.statusCode).toBe(200);
      expect((await env.call('viewer', 'GET', '/api/v1/detection/policy')).json()).toEqual(change);
      await put('admin', '/api/v1/detection/policy', policy);
    });

    it('manages suppressions with an owner, a reason and an expiry', async () => {
      const missing = await env.call('responder', 'POST', '/api/v1/suppressions', {
        field: 'user.name',
        value: 'svc',
        reason: 'service account',
      });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error.field).toBe('expires_at');
      const past = await env.call('responder', 'POST', '/api/v1/suppressions', {
        field: 'user.name',
        value: 'svc',
        reason: 'service account',
        expires_at: '2020-01-01T00:00:00Z',
      });
      expect(past.json().error).toMatchObject({ code: 'expiry_in_past', field: 'expires_at' });
      const created = await env.call('responder', 'POST', '/api/v1/suppressions', {
        rule_id: FAILED_ID,
        field: 'user.name',
        value: 'svc',
        reason: 'service account',
        expires_at: null,
      });
      expect(created.statusCode).toBe(201);
      const suppression = SuppressionWire.parse(created.json());
      expect(suppression).toMatchObject({
        expires_at: null,
        owner: { kind: 'token', id: expect.any(String) },
        hit_count: 0,
      });
      const detector = new Detector((await loadActiveRuleSet(env.context, env.orgId)).set);
      const detections = detector.process(
        prepareEvent({
          '@timestamp': env.clock.now().toISOString(),
          'event.outcome': 'failure',
          'user.name': 'SVC',
        }),
      );
      expect((await recordDetections(env.context, env.orgId, detections))[0]!.outcome).toBe('suppressed');
      expect(
        (await env.call('viewer', 'GET', `/api/v1/suppressions/${suppression.id}`)).json().hit_count,
      ).toBe(1);
      const list = await env.call('viewer', 'GET', '/api/v1/suppressions');
      expect(list.json().items.map((s: { id: string }) => s.id)).toContain(suppression.id);
      expect((await env.call('viewer', 'DELETE', `/api/v1/suppressions/${suppression.id}`)).statusCode).toBe(
        403,
      );
      expect(
        (await env.call('responder', 'DELETE', `/api/v1/suppressions/${suppression.id}`)).statusCode,
      ).toBe(204);
      expect((await env.call('viewer', 'GET', `/api/v1/suppressions/${suppression.id}`)).statusCode).toBe(
        404,
      );
    });

    it('refuses writes by viewers and audits writes', async () => {
      const writes: Array<[string, string, unknown]> = [
        ['POST', '/api/v1/rules', { yaml: FAILED_LOGIN }],
        ['PATCH', `/api/v1/rules/${FAILED_ID}`, { enabled: false }],
        ['DELETE', `/api/v1/rules/${FAILED_ID}`, undefined],
        ['POST', '/api/v1/suppressions', { field: 'a', value: 'b', reason: 'c', expires_at: null }],
      ];
      for (const [method, url, body] of writes) {
        const res = await env.call('viewer', method as 'POST', url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
      }
      const zip = await zipOf({ 'a.yml': FAILED_LOGIN });
      expect((await env.call('viewer', 'POST', '/api/v1/rules/import', zip, zipHeaders)).statusCode).toBe(
        403,
      );
      const actions = (
        await env.context.database.db
          .selectFrom('audit_log')
          .select('action')
          .where('target_type', 'in', ['rule', 'suppression', 'detection_policy'])
          .execute()
      ).map((r) => r.action);
      expect(actions).toEqual(
        expect.arrayContaining([
          'rule.created',
          'rule.versioned',
          'rule.updated',
          'suppression.created',
          'suppression.deleted',
          'detection.policy_updated',
        ]),
      );
    });

    it('documents the routes in the OpenAPI description', async () => {
      const doc = (await env.call(null, 'GET', '/api/v1/openapi.json')).json() as {
        paths: Record<string, unknown>;
      };
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/rules',
          '/api/v1/rules/{id}/test',
          '/api/v1/detection/policy',
          '/api/v1/suppressions',
        ]),
      );
    });

    it('deletes rules and keeps other organisations out', async () => {
      const other = await createOtherOrg(env);
      const token = (
        await createApiToken(env.context, other.responder, { userId: other.responder.id, name: 'other' })
      ).secret;
      const as = (method: 'GET' | 'PATCH' | 'DELETE' | 'POST', url: string, body?: unknown) =>
        env.app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${token}` },
          ...(body ? { payload: body as object } : {}),
        });
      expect((await as('GET', `/api/v1/rules/${FAILED_ID}`)).statusCode).toBe(404);
      expect((await as('PATCH', `/api/v1/rules/${FAILED_ID}`, { enabled: false })).statusCode).toBe(404);
      expect((await as('POST', `/api/v1/rules/${FAILED_ID}/test`, { event: {} })).statusCode).toBe(404);
      expect((await as('DELETE', `/api/v1/rules/${FAILED_ID}`)).statusCode).toBe(404);
      expect((await as('GET', '/api/v1/rules')).json().items).toEqual([]);
      const deleted = await env.call('responder', 'DELETE', `/api/v1/rules/${FAILED_ID}`);
      expect(deleted.statusCode).toBe(204);
      expect((await env.call('viewer', 'GET', `/api/v1/rules/${FAILED_ID}`)).statusCode).toBe(404);
      expect(await activeIds()).not.toContain(FAILED_ID);
    });
  });
});
