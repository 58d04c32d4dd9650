import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IllegalStateError, NotFoundError, UserError } from '../../src/core/errors.js';
import { changeAlertStatus, ingestAlert, mergeAlerts, promoteAlert } from '../../src/services/alerts.js';
import { verifyAuditChains } from '../../src/services/audit.js';
import { addObservable, listObservables, lookup } from '../../src/services/incident-work.js';
import {
  createIncident,
  getIncident,
  listIncidents,
  transition,
  updateIncident,
  incidentTimeline,
} from '../../src/services/incidents.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createOtherOrg, createTestEnv, type TestEnv } from '../support/harness.js';

announceSkips();

async function expectError<T>(
  promise: Promise<T>,
  type: abstract new (...args: never[]) => Error,
  code: string,
) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect((error as { code: string }).code).toBe(code);
  return error;
}

describe.each(ENGINES)('store contract on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let env: TestEnv;
    beforeAll(async () => {
      env = await createTestEnv(engine);
    });
    afterAll(async () => {
      await env?.close();
    });

    it('creates, reads and edits incidents, auditing each change with before and after', async () => {
      const incident = await createIncident(env.context, env.responder, {
        title: 'Phishing wave',
        severity: 'medium',
        category: 'phishing',
      });
      expect(incident.phase).toBe('analysis');
      env.clock.advance(60_000);
      const updated = await updateIncident(env.context, env.responder, incident.id, {
        severity: 'high',
        assigneeId: env.users.responder.id,
      });
      expect(updated.severity).toBe('high');
      expect(updated.acknowledgedAt).toBe(env.clock.now().toISOString());
      expect(await getIncident(env.context, env.viewer, incident.id)).toEqual(updated);
      const timeline = await incidentTimeline(env.context, env.viewer, incident.id, {
        afterSeq: 0,
        limit: 50,
      });
      expect(timeline.items.map((e) => e.action)).toEqual(['incident.created', 'incident.updated']);
      expect(JSON.parse(timeline.items[1]!.changes)).toEqual({
        assignee_id: { from: null, to: env.users.responder.id },
        severity: { from: 'medium', to: 'high' },
      });
    });

    it('refuses an unknown assignee without writing anything', async () => {
      const incident = await createIncident(env.context, env.responder, { title: 'x', severity: 'low' });
      await expectError(
        updateIncident(env.context, env.responder, incident.id, {
          title: 'changed',
          assigneeId: '01900000-0000-7000-8000-000000000000',
        }),
        UserError,
        'unknown_assignee',
      );
      expect((await getIncident(env.context, env.responder, incident.id)).title).toBe('x');
    });

    it('walks the whole lifecycle and keeps the milestones', async () => {
      const incident = await createIncident(env.context, env.responder, {
        title: 'Ransomware',
        severity: 'critical',
        category: 'ransomware',
      });
      for (const to of ['containment', 'remediation', 'follow_up'] as const) {
        env.clock.advance(60_000);
        await transition(env.context, env.responder, incident.id, { to });
      }
      await expectError(
        transition(env.context, env.responder, incident.id, { to: 'closed' }),
        UserError,
        'review_summary_required',
      );
      const closed = await transition(env.context, env.responder, incident.id, {
        to: 'closed',
        reviewSummary: 'Backups restored.',
      });
      expect(closed).toMatchObject({ phase: 'closed', reviewSummary: 'Backups restored.' });
      expect(closed.containedAt! < closed.remediatedAt!).toBe(true);
      await expectError(
        updateIncident(env.context, env.responder, incident.id, { title: 'edit after close' }),
        IllegalStateError,
        'incident_closed',
      );
      const reopened = await transition(env.context, env.responder, incident.id, {
        to: 'containment',
        reason: 'reinfection',
      });
      expect(reopened).toMatchObject({
        phase: 'containment',
        closedAt: null,
        reviewSummary: null,
        containedAt: null,
      });
    });

    it('pages through incidents with cursors, filters and sorts without gaps or repeats', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 23; i += 1) {
        env.clock.advance(1000);
        const severity = (['low', 'high', 'critical'] as const)[i % 3]!;
        ids.add(
          (await createIncident(env.context, env.responder, { title: `Paged incident ${i}`, severity })).id,
        );
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listIncidents(env.context, env.viewer, {
          q: 'paged incident',
          sort: 'created_at',
          order: 'desc',
          limit: 5,
          cursor,
        });
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toHaveLength(23);
      expect(new Set(seen)).toEqual(ids);
      expect([...seen].sort().reverse()).toEqual(seen);

      const bySeverity: string[] = [];
      cursor = undefined;
      do {
        const page = await listIncidents(env.context, env.viewer, {
          q: 'Paged',
          severities: ['critical', 'high'],
          sort: 'severity',
          order: 'desc',
          limit: 4,
          cursor,
        });
        bySeverity.push(...page.items.map((i) => i.severity));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      // i % 3 over 0..22: 7 critical (2, 5, ... 20), 8 high (1, 4, ... 22)
      expect(bySeverity).toEqual([...Array(7).fill('critical'), ...Array(8).fill('high')]);

      const like = await listIncidents(env.context, env.viewer, {
        q: '100%_',
        sort: 'created_at',
        order: 'desc',
        limit: 5,
      });
      expect(like.items).toHaveLength(0);
      await expectError(
        listIncidents(env.context, env.viewer, {
          sort: 'updated_at',
          order: 'desc',
          limit: 5,
          cursor: 'garbage',
        }),
        UserError,
        'invalid_cursor',
      );
    });

    it('searches titles and descriptions for rare and common terms, short terms and odd characters', async () => {
      const mk = (title: string, description = '') =>
        createIncident(env.context, env.responder, { title, severity: 'low', description });
      const rare = await mk('Beaconing from WS-0042 "quoted" 100%', 'C2 at evil-domain.example');
      const renamed = await mk('Old name');
      await updateIncident(env.context, env.responder, renamed.id, { title: 'Kerberoasting detected' });
      // Enough rows sharing a term that the search walks the sort index instead of the search index.
      const db = env.context.database.db;
      const rows = Array.from({ length: 300 }, (_, i) => ({
        id: crypto.randomUUID(),
        org_id: env.orgId,
        title: `Common phishing report ${i}`,
        description: '',
        severity: 'low',
        severity_rank: 1,
        category: 'phishing',
        tlp: 'amber',
        phase: 'analysis',
        assignee_id: null,
        personal_data: 0,
        resolution: null,
        review_summary: null,
        phase_entered_at: '{}',
        detected_at: '2026-01-01T00:00:00.000Z',
        created_at: `2026-01-01T00:00:00.${String(i % 1000).padStart(3, '0')}Z`,
        updated_at: '2026-01-01T00:00:00.000Z',
        acknowledged_at: null,
        contained_at: null,
        remediated_at: null,
        closed_at: null,
      }));
      for (let i = 0; i < rows.length; i += 200)
        await db
          .insertInto('incidents')
          .values(rows.slice(i, i + 200))
          .execute();
      const search = async (q: string) =>
        (
          await listIncidents(env.context, env.viewer, { q, sort: 'created_at', order: 'desc', limit: 500 })
        ).items.map((i) => i.id);
      expect(await search('ws-0042')).toEqual([rare.id]);
      expect(await search('EVIL-DOMAIN.example')).toEqual([rare.id]);
      expect(await search('"quoted" 100%')).toEqual([rare.id]);
      expect(await search('C2')).toEqual([rare.id]);
      expect(await search('kerberoast')).toEqual([renamed.id]);
      expect(await search('Old name')).toEqual([]);
      expect(await search('no such words anywhere')).toEqual([]);
      expect(await search('common phishing')).toHaveLength(300);
      const page = await listIncidents(env.context, env.viewer, {
        q: 'phishing report 299',
        sort: 'created_at',
        order: 'desc',
        limit: 5,
      });
      expect(page.items.map((i) => i.title)).toEqual(['Common phishing report 299']);
    });

    it('deduplicates alerts by key, counting occurrences and widening first/last seen', async () => {
      const base = {
        title: 'SSH brute force',
        severity: 'high' as const,
        source: 'sshd',
        dedupKey: 'ssh-bf:10.0.0.9',
      };
      const first = await ingestAlert(env.context, env.responder, {
        ...base,
        seenAt: '2026-03-01T08:00:00.000Z',
      });
      const again = await ingestAlert(env.context, env.responder, {
        ...base,
        seenAt: '2026-03-01T08:05:00.000Z',
      });
      const late = await ingestAlert(env.context, env.responder, {
        ...base,
        seenAt: '2026-03-01T07:55:00.000Z',
      });
      expect(first.created).toBe(true);
      expect(again.created).toBe(false);
      expect(late.alert).toMatchObject({
        id: first.alert.id,
        occurrenceCount: 3,
        firstSeen: '2026-03-01T07:55:00.000Z',
        lastSeen: '2026-03-01T08:05:00.000Z',
      });
      const parallel = await Promise.all(
        Array.from({ length: 10 }, () =>
          ingestAlert(env.context, env.responder, { ...base, dedupKey: 'parallel' }),
        ),
      );
      expect(new Set(parallel.map((r) => r.alert.id)).size).toBe(1);
      expect(parallel.filter((r) => r.created)).toHaveLength(1);
      expect(Math.max(...parallel.map((r) => r.alert.occurrenceCount))).toBe(10);
    });

    it('rejects an alert with a bad observable before writing anything', async () => {
      const before = (await verifyAuditChains(env.context)).find((r) => r.orgId === env.orgId)!.records;
      const error = await expectError(
        ingestAlert(env.context, env.responder, {
          title: 't',
          severity: 'low',
          source: 's',
          dedupKey: 'bad-obs',
          observables: [
            { type: 'ip', value: '10.0.0.1' },
            { type: 'ip', value: '999.1.1.1' },
          ],
        }),
        UserError,
        'invalid_observable',
      );
      expect((error as UserError).details.field).toBe('observables[1].value');
      expect((await verifyAuditChains(env.context)).find((r) => r.orgId === env.orgId)!.records).toBe(before);
    });

    it('promotes an alert and merges others in bulk, all or nothing', async () => {
      const mk = (n: number, ip: string) =>
        ingestAlert(env.context, env.responder, {
          title: `Beacon ${n}`,
          severity: 'medium',
          source: 'suricata',
          seenAt: `2026-02-2${n}T00:00:00.000Z`,
          observables: [{ type: 'ip', value: ip }],
        });
      const a1 = (await mk(1, '203.0.113.7')).alert;
      const a2 = (await mk(2, '203.0.113.7')).alert;
      const a3 = (await mk(3, '2001:db8::7')).alert;
      const incident = await promoteAlert(env.context, env.responder, a2.id);
      expect(incident).toMatchObject({ title: 'Beacon 2', severity: 'medium', detectedAt: a2.firstSeen });
      await expectError(
        mergeAlerts(env.context, env.responder, incident.id, [a1.id, '01900000-0000-7000-8000-000000000000']),
        NotFoundError,
        'alert_not_found',
      );
      const merged = await mergeAlerts(env.context, env.responder, incident.id, [a1.id, a3.id, a2.id]);
      expect(merged.detectedAt).toBe(a1.firstSeen);
      const other = await createIncident(env.context, env.responder, { title: 'other', severity: 'low' });
      await expectError(
        mergeAlerts(env.context, env.responder, other.id, [a1.id]),
        IllegalStateError,
        'alert_in_other_incident',
      );
      await expectError(
        changeAlertStatus(env.context, env.responder, [a1.id], { status: 'acknowledged' }),
        IllegalStateError,
        'alert_escalated',
      );
      const observables = await listObservables(env.context, env.viewer, incident.id);
      expect(observables.map((o) => o.value).sort()).toEqual(['2001:db8::7', '203.0.113.7']);

      const hit = await lookup(env.context, env.viewer, 'ip', '2001:DB8:0::7', 50);
      expect(hit.hits.map((h) => h.kind).sort()).toEqual(['alert', 'incident']);
      await addObservable(env.context, env.responder, other.id, {
        type: 'ip',
        value: '203.0.113.7',
        ioc: true,
      });
      const both = await lookup(env.context, env.viewer, 'ip', '203.0.113.7', 50);
      expect(both.observable).toMatchObject({ ioc: true, sightings: 4 });
      expect(
        both.hits
          .filter((h) => h.kind === 'incident')
          .map((h) => h.id)
          .sort(),
      ).toEqual([incident.id, other.id].sort());
      expect(
        both.hits
          .filter((h) => h.kind === 'alert')
          .map((h) => h.id)
          .sort(),
      ).toEqual([a1.id, a2.id].sort());
      expect((await listObservables(env.context, env.viewer, other.id))[0]!.otherIncidents).toBe(1);
    });

    it('dismisses alerts only with a reason', async () => {
      const { alert } = await ingestAlert(env.context, env.responder, {
        title: 'noise',
        severity: 'info',
        source: 'x',
      });
      await expectError(
        changeAlertStatus(env.context, env.responder, [alert.id], { status: 'dismissed' }),
        UserError,
        'reason_required',
      );
      const [dismissed] = await changeAlertStatus(env.context, env.responder, [alert.id], {
        status: 'dismissed',
        reason: 'false_positive',
        comment: 'scanner',
      });
      expect(dismissed).toMatchObject({
        status: 'dismissed',
        dismissReason: 'false_positive',
        dismissComment: 'scanner',
      });
    });

    it('keeps organisations apart', async () => {
      const other = await createOtherOrg(env);
      const mine = await createIncident(env.context, env.responder, { title: 'mine', severity: 'low' });
      await expectError(
        getIncident(env.context, other.responder, mine.id),
        NotFoundError,
        'incident_not_found',
      );
      await expectError(
        transition(env.context, other.responder, mine.id, { to: 'containment' }),
        NotFoundError,
        'incident_not_found',
      );
      const theirs = await listIncidents(env.context, other.responder, {
        sort: 'created_at',
        order: 'desc',
        limit: 100,
      });
      expect(theirs.items).toHaveLength(0);
      expect((await lookup(env.context, other.responder, 'ip', '203.0.113.7', 10)).observable).toBeNull();
    });

    it('appends concurrent audit records into one unbroken chain per organisation', async () => {
      await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          createIncident(env.context, env.responder, { title: `concurrent ${i}`, severity: 'low' }),
        ),
      );
      const reports = await verifyAuditChains(env.context);
      expect(reports.length).toBeGreaterThanOrEqual(2);
      for (const report of reports) {
        expect(report.problem).toBeNull();
        expect(report.records).toBe(report.headSeq);
      }
    });
  });
});
