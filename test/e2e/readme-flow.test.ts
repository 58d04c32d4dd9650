import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceSkips, ENGINES, type TestDatabase } from '../support/engines.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

announceSkips();

/** A small API client as a new user would write one: a session cookie plus the CSRF header. */
class Client {
  private cookie = '';
  get cookieHeader(): string {
    return this.cookie;
  }
  private csrf = '';
  constructor(private readonly base: string) {}

  async login(email: string, password: string): Promise<Response> {
    const res = await fetch(`${this.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (res.ok) {
      this.cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
      this.csrf = ((await res.clone().json()) as { csrf_token: string }).csrf_token;
    }
    return res;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test client reads whatever JSON comes back
  async send(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`${this.base}${url}`, {
      method,
      headers: {
        cookie: this.cookie,
        'x-csrf-token': this.csrf,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: res.status === 204 ? null : await res.json() };
  }
}

describe.each(ENGINES)('README flow against a real server process on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let db: TestDatabase;
    let server: ServerProcess;
    const args = () =>
      db.databaseUrl
        ? ['--database-url', db.databaseUrl, '--data-dir', db.dataDir]
        : ['--data-dir', db.dataDir];

    beforeAll(async () => {
      db = await engine.create();
      server = await startServerProcess(args());
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
      await db?.drop();
    });

    it('signs in as the first admin, runs an incident through every phase and reads its timeline; survives kill -9', async () => {
      const passwordFile = path.join(db.dataDir, 'initial-admin-password');
      expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
      const password = readFileSync(passwordFile, 'utf8').trim();
      expect(server.output()).not.toContain(password);

      const client = new Client(server.url);
      expect((await client.login('admin@firebreak.local', 'wrong password!')).status).toBe(401);
      expect((await client.login('admin@firebreak.local', password)).status).toBe(200);
      const created = await client.send('POST', '/api/v1/incidents', {
        title: 'Suspicious admin login',
        severity: 'high',
        category: 'unauthorised_access',
      });
      expect(created.status).toBe(201);
      const id = created.json.id as string;
      for (const to of ['containment', 'remediation', 'follow_up']) {
        expect((await client.send('POST', `/api/v1/incidents/${id}/transitions`, { to })).json.phase).toBe(
          to,
        );
      }
      const closed = await client.send('POST', `/api/v1/incidents/${id}/transitions`, {
        to: 'closed',
        review_summary: 'Credentials rotated; MFA enforced.',
      });
      expect(closed.json).toMatchObject({ phase: 'closed' });
      const timeline = await client.send('GET', `/api/v1/incidents/${id}/timeline`);
      expect(timeline.json.items.map((i: { action: string }) => i.action)).toEqual([
        'incident.created',
        ...Array(4).fill('incident.transitioned'),
      ]);
      expect(timeline.json.items[0].actor.name).toBe('admin@firebreak.local');

      // Accepted data survives a crash: kill -9, start again, read it back with the same session.
      expect(await server.stop('SIGKILL')).toBeNull();
      server = await startServerProcess(args());
      const reopened = new Client(server.url);
      expect((await reopened.login('admin@firebreak.local', password)).status).toBe(200);
      const after = await reopened.send('GET', `/api/v1/incidents/${id}`);
      expect(after.json).toMatchObject({
        phase: 'closed',
        review_summary: 'Credentials rotated; MFA enforced.',
      });
      expect(server.output()).not.toContain('created the first administrator');

      // A clean stop does not wait for clients holding the event stream open.
      const stream = await fetch(`${server.url}/api/v1/stream`, {
        headers: { cookie: reopened.cookieHeader },
      });
      expect(stream.status).toBe(200);
      const started = Date.now();
      expect(await server.stop('SIGTERM')).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    }, 90_000);
  });
});
