import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { runCli, type CliIo } from '../../src/cli/program.js';
import { openDatabase } from '../../src/storage/database.js';
import { announceSkips, ENGINES, type TestDatabase } from '../support/engines.js';

announceSkips();

/** Runs `firebreak ...` in-process; returns exit code and output. */
async function firebreak(
  db: TestDatabase,
  args: string[],
  stdin = '',
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    stdin: () => Promise.resolve(stdin),
  };
  const storage = db.databaseUrl ? ['--database-url', db.databaseUrl] : ['--data-dir', db.dataDir];
  const code = await runCli(['node', 'firebreak', ...args, ...storage], io);
  return { code, out, err };
}

describe.each(ENGINES)('CLI on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await engine.create();
    });
    afterAll(async () => {
      await db?.drop();
    });

    async function withDb<T>(work: (database: ReturnType<typeof openDatabase>) => Promise<T>): Promise<T> {
      const database = openDatabase({ dataDir: db.dataDir, databaseUrl: db.databaseUrl });
      try {
        return await work(database);
      } finally {
        await database.close();
      }
    }

    it('migrates, then reports the database up to date', async () => {
      const first = await firebreak(db, ['migrate', '--json']);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.out)).toMatchObject({
        applied: [
          '2026112601-initial',
          '2026112602-incident-search',
          '2026112703-events',
          '2026112704-integrations',
          '2026112705-detection',
          '2026112706-event-sightings',
          '2026112707-detection-lists',
          '2026112708-incident-closed-index',
          '2026112709-ingest-submissions',
        ],
      });
      const second = await firebreak(db, ['migrate']);
      expect(second.out).toBe('database is up to date\n');
      if (!db.databaseUrl) expect(existsSync(path.join(db.dataDir, 'firebreak.db'))).toBe(true);
    });

    it('creates users with the password from stdin and refuses weak or duplicate ones', async () => {
      const created = await firebreak(
        db,
        [
          'user',
          'create',
          '--email',
          'Ana@Example.test',
          '--role',
          'responder',
          '--password-stdin',
          '--json',
        ],
        'a long enough password\n',
      );
      expect(created.code).toBe(0);
      expect(JSON.parse(created.out)).toMatchObject({ email: 'ana@example.test', role: 'responder' });
      const dup = await firebreak(db, ['user', 'create', '--email', 'ana@example.test', '--role', 'viewer']);
      expect(dup.code).toBe(1);
      expect(dup.err).toContain('email_taken');
      const weak = await firebreak(
        db,
        ['user', 'create', '--email', 'b@example.test', '--role', 'viewer', '--password-stdin'],
        'short\n',
      );
      expect(weak.err).toContain('weak_password');
      const badRole = await firebreak(db, ['user', 'create', '--email', 'c@example.test', '--role', 'root']);
      expect(badRole.code).not.toBe(0);
      expect(badRole.err).toContain('root');
    });

    it('prints a new token on stdout and stores only its hash', async () => {
      const result = await firebreak(db, ['token', 'create', '--email', 'ana@example.test', '--name', 'ci']);
      expect(result.code).toBe(0);
      const token = result.out.trim();
      expect(token).toMatch(/^fbk_[A-Za-z0-9_-]{43}$/);
      const rows = await withDb((d) => d.db.selectFrom('api_tokens').selectAll().execute());
      expect(JSON.stringify(rows)).not.toContain(token);
      expect(
        (await firebreak(db, ['token', 'create', '--email', 'nobody@example.test', '--name', 'x'])).code,
      ).toBe(1);
    });

    it('verifies an intact chain, then names the first altered, removed or reordered record', async () => {
      const ok = await firebreak(db, ['audit', 'verify', '--json']);
      expect(ok.code).toBe(0);
      const report = JSON.parse(ok.out);
      expect(report.ok).toBe(true);
      expect(report.organizations[0].records).toBe(3); // organisation, user and token created above

      const rows = await withDb((d) =>
        d.db.selectFrom('audit_log').select(['id', 'seq', 'changes']).orderBy('seq').execute(),
      );
      const victim = rows[2]!;

      // Altered: an attacker edits what a record says with plain SQL.
      await withDb((d) =>
        sql`update audit_log set changes = ${'{"forged":true}'} where id = ${victim.id}`.execute(d.db),
      );
      const altered = await firebreak(db, ['audit', 'verify']);
      expect(altered.code).toBe(1);
      expect(altered.out).toContain(`record ${victim.id}`);
      expect(altered.out).toContain('altered');
      await withDb((d) =>
        sql`update audit_log set changes = ${victim.changes} where id = ${victim.id}`.execute(d.db),
      );
      expect((await firebreak(db, ['audit', 'verify'])).code).toBe(0);

      // Reordered: two records swap places (their seq numbers are exchanged).
      const [a, b] = [rows[1]!, rows[2]!];
      await withDb(async (d) => {
        await sql`update audit_log set seq = -1 where id = ${a.id}`.execute(d.db);
        await sql`update audit_log set seq = ${a.seq} where id = ${b.id}`.execute(d.db);
        await sql`update audit_log set seq = ${b.seq} where id = ${a.id}`.execute(d.db);
      });
      const reordered = JSON.parse((await firebreak(db, ['audit', 'verify', '--json'])).out);
      expect(reordered.ok).toBe(false);
      expect(reordered.organizations[0].problem.record_id).toBe(b.id);

      // Removed: a record disappears.
      await withDb((d) => sql`delete from audit_log where id = ${a.id}`.execute(d.db));
      const removed = await firebreak(db, ['audit', 'verify', '--json']);
      expect(removed.code).toBe(1);
      expect(JSON.parse(removed.out).organizations[0].problem.kind).toMatch(/sequence_gap|broken_link/);
    });

    it('names the invalid setting and exits 2', async () => {
      const result = await runCli(['node', 'firebreak', 'migrate', '--database-url', 'mysql://x'], {
        out: () => undefined,
        err: (t) => expect(t).toContain('databaseUrl (FIREBREAK_DATABASE_URL)'),
        stdin: () => Promise.resolve(''),
      });
      expect(result).toBe(2);
    });
  });
});
