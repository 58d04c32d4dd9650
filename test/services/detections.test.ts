import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../src/cli/program.js';
import { Detector } from '../../src/detection/detector.js';
import { prepareEvent } from '../../src/detection/event.js';
import { changeAlertStatus } from '../../src/services/alerts.js';
import { inTransaction } from '../../src/services/context.js';
import {
  exportDetectorState,
  importDetectorState,
  loadDetectionState,
  recordDetections,
  saveDetectionState,
  setDetectionPolicy,
} from '../../src/services/detections.js';
import { readRuleArchive } from '../../src/services/rule-archive.js';
import { getRule, loadActiveRuleSet, saveRuleSources, updateRuleSettings } from '../../src/services/rules.js';
import { createSuppression } from '../../src/services/suppressions.js';
import { findAlert } from '../../src/storage/alert-repository.js';
import { announceSkips, ENGINES, type TestDatabase } from '../support/engines.js';
import { createOtherOrg, createTestEnv, type TestEnv } from '../support/harness.js';
import { BRUTE_FORCE, FAILED_LOGIN, ROOT_SHELL, zipOf } from '../support/rule-fixtures.js';

announceSkips();

describe.each(ENGINES)('detection services on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let env: TestEnv;
    beforeAll(async () => {
      env = await createTestEnv(engine);
    });
    afterAll(async () => {
      await env?.close();
    });

    let sequence = 0;
    /** An event `minutesAgo` before the clock, of a fresh host unless given. */
    const event = (fields: Record<string, unknown>, minutesAgo = 0) => ({
      '@timestamp': new Date(env.clock.now().getTime() - minutesAgo * 60_000).toISOString(),
      'host.name': `host-${++sequence}`,
      ...fields,
    });
    const detect = async (orgId: string, events: Array<Record<string, unknown>>) => {
      const active = await loadActiveRuleSet(env.context, orgId);
      const detector = new Detector(active.set);
      return events.flatMap((e) => detector.process(prepareEvent(e)));
    };

    it('stores rules, versions a changed document and leaves identical content alone', async () => {
      const first = await saveRuleSources(env.context, env.responder, [
        { file: null, text: `${FAILED_LOGIN}---\n${ROOT_SHELL}` },
      ]);
      expect(first.map((r) => [r.document, r.status, r.version])).toEqual([
        [1, 'created', 1],
        [2, 'created', 1],
      ]);
      const again = await saveRuleSources(env.context, env.responder, [{ file: null, text: FAILED_LOGIN }]);
      expect(again[0]).toMatchObject({ status: 'unchanged', version: 1 });
      const changed = await saveRuleSources(env.context, env.responder, [
        { file: 'edited.yml', text: FAILED_LOGIN.replace('counts failed', 'counts failed (edited)') },
      ]);
      expect(changed[0]).toMatchObject({ status: 'updated', version: 2, file: 'edited.yml' });
      const { rule, versions } = await getRule(
        env.context,
        env.viewer,
        '6a1f0d2e-0000-4000-8000-000000000001',
      );
      expect(rule.version).toBe(2);
      expect(rule.yaml).toContain('(edited)');
      expect(versions.map((v) => v.version)).toEqual([2, 1]);
      expect(versions[1]!.yaml.startsWith('# counts failed logins\n')).toBe(true);
    });

    it('refuses a rule the compiler cannot run, naming the document and the field', async () => {
      const broken = ROOT_SHELL.replace(
        '6a1f0d2e-0000-4000-8000-000000000002',
        '6a1f0d2e-0000-4000-8000-0000000000ff',
      ).replace('process.name: bash', 'process.name|foo: bash');
      const results = await saveRuleSources(env.context, env.responder, [
        { file: 'rules.yml', text: `${FAILED_LOGIN}---\n${broken}` },
      ]);
      expect(results[1]).toMatchObject({
        file: 'rules.yml',
        document: 2,
        status: 'failed',
        error: { code: 'sigma_feature_unsupported', field: 'detection.selection.process.name|foo' },
      });
      expect(results[1]!.error!.message).toContain('unsupported modifier "foo"');
      const correlation = await saveRuleSources(env.context, env.responder, [
        { file: null, text: BRUTE_FORCE.replace('[6a1f0d2e-0000-4000-8000-000000000001]', '[no-such-rule]') },
      ]);
      expect(correlation[0]).toMatchObject({
        status: 'failed',
        error: { code: 'unknown_rule_reference', field: 'correlation.rules' },
      });
    });

    it('reads rule files from a zip and refuses zip bombs', async () => {
      const zip = await zipOf({
        'rules/a.yml': ROOT_SHELL,
        'README.md': 'not a rule',
        'rules/b.yaml': FAILED_LOGIN,
      });
      const sources = await readRuleArchive(zip);
      expect(sources.map((s) => s.file)).toEqual(['rules/a.yml', 'rules/b.yaml']);
      // Declared too large in all.
      const big = await zipOf({ 'zeros.yml': Buffer.alloc(3 * 1024 * 1024) });
      await expect(readRuleArchive(big)).rejects.toMatchObject({ code: 'archive_too_large' });
      // Too many entries, refused before anything is inflated.
      const many = await zipOf(
        Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`r${i}.yml`, 'x: 1'])),
      );
      await expect(
        readRuleArchive(many, { maxEntries: 10, maxEntryBytes: 1024, maxTotalBytes: 4096 }),
      ).rejects.toMatchObject({ code: 'archive_too_many_entries' });
      // A header that lies about the size: the stream is stopped at the declared size.
      const liar = await zipOf({ 'liar.yml': Buffer.alloc(100_000, 0x61) });
      patchUncompressedSize(liar, 'liar.yml', 100);
      await expect(readRuleArchive(liar)).rejects.toMatchObject({ code: 'archive_invalid' });
    });

    it('enabling, disabling and re-levelling a rule change the active set and alert severity', async () => {
      const id = '6a1f0d2e-0000-4000-8000-000000000002';
      const root = event({ 'process.name': 'bash', 'user.name': 'root' });
      expect((await detect(env.orgId, [root])).map((d) => d.rule.id)).toContain(id);
      await updateRuleSettings(env.context, env.responder, id, { enabled: false });
      expect((await detect(env.orgId, [root])).map((d) => d.rule.id)).not.toContain(id);
      await updateRuleSettings(env.context, env.responder, id, { enabled: true, levelOverride: 'low' });
      const detections = await detect(env.orgId, [root]);
      expect(detections.find((d) => d.rule.id === id)?.rule.level).toBe('low');
      const [recorded] = await recordDetections(env.context, env.orgId, detections);
      const alert = await findAlert(env.context.database.db, env.orgId, recorded!.alertId!);
      expect(alert).toMatchObject({ severity: 'low', ruleId: id, status: 'new', incidentId: null });
      await updateRuleSettings(env.context, env.responder, id, { levelOverride: null });
    });

    it('counts repeats within the dedup window on one alert and opens a new one after it', async () => {
      const ip = '198.51.100.20';
      const failed = (minutesAgo: number) =>
        event({ 'event.outcome': 'failure', 'source.ip': ip, 'user.name': 'dedup-user' }, minutesAgo);
      const a = await recordDetections(env.context, env.orgId, await detect(env.orgId, [failed(150)]));
      const b = await recordDetections(env.context, env.orgId, await detect(env.orgId, [failed(120)]));
      expect(a[0]!.outcome).toBe('created');
      expect(b[0]).toMatchObject({ outcome: 'repeated', alertId: a[0]!.alertId });
      const c = await recordDetections(env.context, env.orgId, await detect(env.orgId, [failed(60)]));
      expect(c[0]!.outcome).toBe('created');
      expect(c[0]!.alertId).not.toBe(a[0]!.alertId);
      const first = await findAlert(env.context.database.db, env.orgId, a[0]!.alertId!);
      expect(first).toMatchObject({ occurrenceCount: 2, severity: 'low', source: 'sigma' });
      expect(first!.payload).toMatchObject({ event: { 'source.ip': ip } });
    });

    it('opens an incident for high alerts, joins it for the same entity, and leaves low ones in triage', async () => {
      env.clock.advance(2 * 3_600_000); // past the dedup window of earlier root shells
      const root = (host: string) =>
        event({ 'process.name': 'bash', 'user.name': 'root', 'host.name': host });
      const [opened] = await recordDetections(env.context, env.orgId, await detect(env.orgId, [root('db1')]));
      expect(opened).toMatchObject({ outcome: 'created', incidentOpened: true });
      expect(opened!.incidentId).not.toBeNull();
      // Same entity (user.name=root) from another rule at high: joins the open incident.
      await saveRuleSources(env.context, env.responder, [
        {
          file: null,
          text: ROOT_SHELL.replace('000000000002', '000000000004')
            .replace('Root shell', 'Root sudo')
            .replace('process.name: bash', 'process.name: sudo'),
        },
      ]);
      const sudo = event({ 'process.name': 'sudo', 'user.name': 'root' });
      const [joined] = await recordDetections(env.context, env.orgId, await detect(env.orgId, [sudo]));
      expect(joined).toMatchObject({
        outcome: 'created',
        incidentOpened: false,
        incidentId: opened!.incidentId,
      });
      const [low] = await recordDetections(
        env.context,
        env.orgId,
        await detect(env.orgId, [event({ 'event.outcome': 'failure', 'user.name': 'triage-user' })]),
      );
      expect(low).toMatchObject({ outcome: 'created', incidentId: null });
      // The policy decides: with a low threshold the same kind of alert opens an incident.
      await setDetectionPolicy(env.context, env.admin, {
        incidentMinSeverity: 'low',
        groupWindowSeconds: 3600,
        dedupWindowSeconds: 3600,
      });
      const [now] = await recordDetections(
        env.context,
        env.orgId,
        await detect(env.orgId, [event({ 'event.outcome': 'failure', 'user.name': 'policy-user' })]),
      );
      expect(now!.incidentOpened).toBe(true);
      await setDetectionPolicy(env.context, env.admin, {
        incidentMinSeverity: 'high',
        groupWindowSeconds: 3600,
        dedupWindowSeconds: 3600,
      });
      await expect(
        setDetectionPolicy(env.context, env.responder, {
          incidentMinSeverity: null,
          groupWindowSeconds: 0,
          dedupWindowSeconds: 0,
        }),
      ).rejects.toMatchObject({ code: 'forbidden' });
    });

    it('suppresses matching detections until the suppression expires, counting them', async () => {
      const suppression = await createSuppression(env.context, env.responder, {
        ruleId: '6a1f0d2e-0000-4000-8000-000000000001',
        field: 'user.name',
        value: 'Scanner',
        reason: 'the vulnerability scanner fails logins by design',
        expiresAt: new Date(env.clock.now().getTime() + 3_600_000).toISOString(),
      });
      const scan = () => event({ 'event.outcome': 'failure', 'user.name': 'scanner' });
      const quiet = await recordDetections(env.context, env.orgId, await detect(env.orgId, [scan(), scan()]));
      expect(quiet.map((r) => r.outcome)).toEqual(['suppressed', 'suppressed']);
      const row = await env.context.database.db
        .selectFrom('suppressions')
        .select('hit_count')
        .where('id', '=', suppression.id)
        .executeTakeFirstOrThrow();
      expect(Number(row.hit_count)).toBe(2);
      env.clock.advance(2 * 3_600_000);
      const loud = await recordDetections(env.context, env.orgId, await detect(env.orgId, [scan()]));
      expect(loud[0]!.outcome).toBe('created');
      await expect(
        createSuppression(env.context, env.viewer, {
          ruleId: null,
          field: 'user.name',
          value: 'x',
          reason: 'y',
          expiresAt: null,
        }),
      ).rejects.toMatchObject({ code: 'forbidden' });
    });

    it('counts matches and the share dismissed as false positive per rule', async () => {
      const id = '6a1f0d2e-0000-4000-8000-000000000001';
      const before = (await getRule(env.context, env.viewer, id)).rule.stats;
      const recorded = await recordDetections(
        env.context,
        env.orgId,
        await detect(env.orgId, [
          event({ 'event.outcome': 'failure', 'user.name': 'fp-1' }),
          event({ 'event.outcome': 'failure', 'user.name': 'fp-2' }),
        ]),
      );
      await changeAlertStatus(env.context, env.responder, [recorded[0]!.alertId!], {
        status: 'dismissed',
        reason: 'false_positive',
      });
      await changeAlertStatus(env.context, env.responder, [recorded[1]!.alertId!], {
        status: 'dismissed',
        reason: 'benign',
      });
      const after = (await getRule(env.context, env.viewer, id)).rule.stats;
      expect(after.alerts).toBe(before.alerts + 2);
      expect(after.falsePositives).toBe(before.falsePositives + 1);
      expect(after.closed).toBe(before.closed + 2);
      expect(after.falsePositiveShare).toBeCloseTo(after.falsePositives / after.closed, 10);
      expect(after.lastMatchAt).not.toBeNull();
    });

    it('checkpoints correlation state so a restarted detector completes the correlation', async () => {
      await saveRuleSources(env.context, env.responder, [{ file: null, text: BRUTE_FORCE }]);
      const active = await loadActiveRuleSet(env.context, env.orgId);
      expect(active.failures).toEqual([]);
      const attempt = () => prepareEvent(event({ 'event.outcome': 'failure', 'source.ip': '192.0.2.99' }));
      const first = new Detector(active.set);
      first.process(attempt());
      first.process(attempt());
      await inTransaction(env.context, (unit) =>
        saveDetectionState(unit, env.orgId, exportDetectorState(first, active.key)),
      );
      const restored = new Detector((await loadActiveRuleSet(env.context, env.orgId)).set);
      const state = await loadDetectionState(env.context, env.orgId);
      expect(state?.ruleSetKey).toBe(active.key);
      importDetectorState(restored, state!);
      const detections = restored.process(attempt());
      expect(detections.map((d) => d.kind)).toContain('correlation');
      const recorded = await recordDetections(
        env.context,
        env.orgId,
        detections.filter((d) => d.kind === 'correlation'),
      );
      const alert = await findAlert(env.context.database.db, env.orgId, recorded[0]!.alertId!);
      expect(alert).toMatchObject({ severity: 'critical', ruleId: '6a1f0d2e-0000-4000-8000-000000000003' });
      expect(alert!.payload).toMatchObject({
        correlation: { group: { 'source.ip': '192.0.2.99' }, value: 3 },
      });
      expect(recorded[0]!.incidentOpened).toBe(true);
    });

    it('keeps organisations apart', async () => {
      const other = await createOtherOrg(env);
      expect((await loadActiveRuleSet(env.context, other.orgId)).set.rules).toHaveLength(0);
      await expect(
        getRule(env.context, other.responder, '6a1f0d2e-0000-4000-8000-000000000001'),
      ).rejects.toMatchObject({
        code: 'rule_not_found',
      });
      const results = await saveRuleSources(env.context, other.responder, [
        { file: null, text: FAILED_LOGIN },
      ]);
      expect(results[0]).toMatchObject({ status: 'created', version: 1 });
    });
  });
});

/** Rewrites the uncompressed size of one entry in its local header and central directory record. */
function patchUncompressedSize(zip: Buffer, name: string, size: number): void {
  const nameBytes = Buffer.from(name);
  for (let i = 0; i < zip.length - 4; i++) {
    const signature = zip.readUInt32LE(i);
    if (signature === 0x04034b50 && zip.subarray(i + 30, i + 30 + nameBytes.length).equals(nameBytes))
      zip.writeUInt32LE(size, i + 22);
    if (signature === 0x02014b50 && zip.subarray(i + 46, i + 46 + nameBytes.length).equals(nameBytes))
      zip.writeUInt32LE(size, i + 24);
  }
}

describe.each(ENGINES)('firebreak rules import on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let db: TestDatabase;
    let dir: string;
    beforeAll(async () => {
      db = await engine.create();
      dir = mkdtempSync(path.join(tmpdir(), 'firebreak-rules-'));
    });
    afterAll(async () => {
      rmSync(dir, { recursive: true, force: true });
      await db?.drop();
    });
    const firebreak = async (args: string[], withStorage = true) => {
      let out = '';
      let err = '';
      const io: CliIo = {
        out: (t) => void (out += t),
        err: (t) => void (err += t),
        stdin: () => Promise.resolve(''),
      };
      const storage = db.databaseUrl ? ['--database-url', db.databaseUrl] : ['--data-dir', db.dataDir];
      const code = await runCli(['node', 'firebreak', ...args, ...(withStorage ? storage : [])], io);
      return { code, out, err };
    };

    it('imports files, folders and zip archives into the database; refusals set the exit status', async () => {
      mkdirSync(path.join(dir, 'nested', 'deeper'), { recursive: true });
      writeFileSync(path.join(dir, 'nested', 'deeper', 'failed.yml'), FAILED_LOGIN);
      writeFileSync(path.join(dir, 'nested', 'notes.txt'), 'not a rule');
      writeFileSync(path.join(dir, 'bundle.zip'), await zipOf({ 'x/root.yaml': ROOT_SHELL }));
      const first = await firebreak(['rules', 'import', dir, '--json']);
      expect(first.err).toBe('');
      expect(first.code).toBe(0);
      const lines = first.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { status: string; id: string; file: string });
      expect(lines.map((l) => [l.status, l.id])).toEqual([
        ['created', '6a1f0d2e-0000-4000-8000-000000000002'],
        ['created', '6a1f0d2e-0000-4000-8000-000000000001'],
      ]);
      expect(lines[0]!.file).toMatch(/bundle\.zip:x\/root\.yaml$/);
      const broken = path.join(dir, 'broken.yml');
      writeFileSync(broken, 'title: no detection\nlogsource: {product: linux}\n');
      const second = await firebreak(['rules', 'import', dir]);
      expect(second.code).toBe(1);
      expect(second.out).toContain('0 created, 0 updated, 2 unchanged, 1 failed');
      expect(second.err).toContain(`refused ${broken} document 1: detection`);
      // `rules validate` still lives beside `rules import`.
      const validate = await firebreak(['rules', 'validate', path.join(dir, 'nested')], false);
      expect(validate.code).toBe(0);
    });
  });
});
