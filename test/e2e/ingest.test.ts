import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { announceSkips, ENGINES, type TestDatabase } from '../support/engines.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

announceSkips();

const run = promisify(execFile);
const PASSWORD = 'e2e-ingest-password-1';
const LOGGER = '/usr/bin/logger';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function adminToken(base: string): Promise<string> {
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@firebreak.local', password: PASSWORD }),
  });
  expect(login.status).toBe(200);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const { csrf_token: csrf } = (await login.json()) as { csrf_token: string };
  const issued = await fetch(`${base}/api/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
    body: JSON.stringify({ name: 'e2e ingest' }),
  });
  expect(issued.status).toBe(201);
  return ((await issued.json()) as { token: string }).token;
}

async function getJson(
  base: string,
  token: string,
  url: string,
): Promise<{ items: Array<Record<string, unknown>> }> {
  const response = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as { items: Array<Record<string, unknown>> };
}

async function eventually<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await probe();
  }
  return value;
}

describe.each(ENGINES)('events into a real server process on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let db: TestDatabase | undefined;
    let server: ServerProcess | undefined;
    const args = (port: number) => [
      ...(db!.databaseUrl ? ['--database-url', db!.databaseUrl] : []),
      '--data-dir',
      db!.dataDir,
      '--syslog-port',
      String(port),
    ];
    const env = { FIREBREAK_ADMIN_PASSWORD: PASSWORD, FIREBREAK_SYSLOG_PORT: '' };

    afterEach(async () => {
      await server?.stop('SIGKILL');
      await db?.drop();
      server = undefined;
      db = undefined;
    });

    it.skipIf(!existsSync(LOGGER))(
      'takes syslog from the system logger over TCP and UDP, parsed and searchable, and raises the built-in brute-force alert',
      async () => {
        db = await engine.create();
        const port = await freePort();
        server = await startServerProcess(args(port), env);
        const announced = await eventually(
          () => Promise.resolve(server!.output()),
          (output) => output.includes('firebreak: syslog on'),
        );
        expect(announced).toContain(`firebreak: syslog on tcp ${port}, udp ${port}`);
        const token = await adminToken(server.url);
        const line = (i: number) =>
          `Failed password for invalid user admin${i} from 198.51.100.23 port ${50000 + i} ssh2`;
        for (let i = 0; i < 12; i++) {
          await run(LOGGER, [
            '--tcp',
            '--rfc5424',
            '-n',
            '127.0.0.1',
            '-P',
            String(port),
            '-t',
            'sshd',
            '--id=4242',
            line(i),
          ]);
        }
        await run(LOGGER, [
          '--udp',
          '--rfc3164',
          '-n',
          '127.0.0.1',
          '-P',
          String(port),
          '-t',
          'sudo',
          'alice : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/id',
        ]);
        const ssh = await eventually(
          () => getJson(server!.url, token, '/api/v1/events?q=source.ip:198.51.100.23&limit=100'),
          (page) => page.items.length === 12,
        );
        expect(ssh.items).toHaveLength(12);
        expect(ssh.items[0]).toMatchObject({
          parser: 'openssh',
          source: { kind: 'syslog', name: 'tcp' },
          fields: { 'event.outcome': 'failure', 'process.name': 'sshd' },
        });
        const sudo = await eventually(
          () => getJson(server!.url, token, '/api/v1/events?q=event.dataset:sudo'),
          (page) => page.items.length === 1,
        );
        expect(sudo.items[0]).toMatchObject({
          source: { kind: 'syslog', name: 'udp' },
          fields: { 'user.name': 'alice' },
        });
        // The built-in SSH brute-force and spraying rules see these twelve failures from one address.
        const alerts = await eventually(
          () => getJson(server!.url, token, '/api/v1/alerts?limit=100'),
          (page) => page.items.some((a) => /brute|spray/i.test(String(a.title))),
        );
        expect(alerts.items.some((a) => /brute|spray/i.test(String(a.title)))).toBe(true);
      },
      60_000,
    );

    it('after kill -9, every acknowledged event is stored exactly once (count in = count out)', async () => {
      db = await engine.create();
      const port = await freePort();
      server = await startServerProcess(args(port), env);
      const token = await adminToken(server.url);
      let acknowledged = 0;
      let next = 0;
      let stop = false;
      const sender = (async () => {
        while (!stop) {
          const lines = Array.from({ length: 200 }, () => JSON.stringify({ message: `durable ${next++}` }));
          try {
            const response = await fetch(`${server!.url}/api/v1/events?source=durability`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` },
              body: lines.join('\n'),
            });
            if (response.status === 202)
              acknowledged += ((await response.json()) as { accepted: number }).accepted;
          } catch {
            return; // the server died mid-request: that batch was never acknowledged
          }
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await server.stop('SIGKILL');
      stop = true;
      await sender;
      expect(acknowledged).toBeGreaterThan(0);

      server = await startServerProcess(args(port), env);
      const count = async () => {
        let total = 0;
        let cursor: string | null = null;
        const ids = new Set<string>();
        do {
          const page = (await getJson(
            server!.url,
            token,
            `/api/v1/events?q=durable&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
          )) as { items: Array<{ id: string }>; next_cursor: string | null };
          for (const item of page.items) ids.add(item.id);
          total += page.items.length;
          cursor = page.next_cursor;
        } while (cursor);
        return { total, distinct: ids.size };
      };
      // Events the server had spooled but not yet acknowledged may also appear; none may be missing or doubled.
      const stored = await eventually(count, (c) => c.total >= acknowledged, 60_000);
      expect(stored.total).toBeGreaterThanOrEqual(acknowledged);
      expect(stored.distinct).toBe(stored.total);
      const messages = new Set<string>();
      let cursor: string | null = null;
      do {
        const page = (await getJson(
          server.url,
          token,
          `/api/v1/events?q=durable&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        )) as { items: Array<{ raw: { message: string } }>; next_cursor: string | null };
        for (const item of page.items) messages.add(item.raw.message);
        cursor = page.next_cursor;
      } while (cursor);
      expect(messages.size).toBe(stored.total);
      for (let i = 0; i < acknowledged; i++) expect(messages.has(`durable ${i}`)).toBe(true);
    }, 90_000);
  });
});
