import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { announceSkips, ENGINES, type TestDatabase } from '../support/engines.js';
import { freePort, startServerProcess, type ServerProcess } from './server-process.js';

announceSkips();

const run = promisify(execFile);
const PASSWORD = 'e2e-ingest-password-1';
const LOGGER = '/usr/bin/logger';

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

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EVTX_DIR = path.resolve(ROOT, '../shared/data/sigma/regression_data');

/** One EVTX file from SigmaHQ's regression data, or null when the data is absent. */
function someEvtx(): string | null {
  if (!existsSync(EVTX_DIR)) return null;
  const stack = [EVTX_DIR];
  while (stack.length) {
    const dir = stack.pop()!;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.name.endsWith('.evtx')) return full;
    }
  }
  return null;
}

function firebreakCli(args: string[], env: Record<string, string>) {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
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
    const METRICS_TOKEN = 'scrape-secret-0123456789';
    const env = {
      FIREBREAK_ADMIN_PASSWORD: PASSWORD,
      FIREBREAK_SYSLOG_PORT: '',
      FIREBREAK_METRICS_TOKEN: METRICS_TOKEN,
    };

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

        // Prometheus metrics: their own token, the listeners' and the pipeline's counters.
        expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
        expect(
          (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status,
        ).toBe(401);
        const scraped = await fetch(`${server.url}/metrics`, {
          headers: { authorization: `Bearer ${METRICS_TOKEN}` },
        });
        expect(scraped.status).toBe(200);
        expect(scraped.headers.get('content-type')).toContain('text/plain');
        const text = await scraped.text();
        const value = (series: string) =>
          Number(
            text
              .split('\n')
              .find((line) => line.startsWith(`${series} `))
              ?.slice(series.length + 1),
          );
        expect(value('firebreak_syslog_frames_received_total{transport="tcp"}')).toBe(12);
        expect(value('firebreak_syslog_frames_received_total{transport="udp"}')).toBe(1);
        expect(value('firebreak_pipeline_events_total')).toBeGreaterThanOrEqual(13);
        expect(value('firebreak_spool_full')).toBe(0);
        expect(text).toContain('firebreak_process_cpu_seconds_total');
        expect(text).toContain('firebreak_detection_dropped_total{kind="late_event"}');
      },
      60_000,
    );

    it('takes files through `firebreak ingest` and an Alertmanager webhook, as the README shows', async () => {
      db = await engine.create();
      server = await startServerProcess(args(0), { ...env, FIREBREAK_SYSLOG_PORT: '0' });
      const token = await adminToken(server.url);
      const cliEnv = { FIREBREAK_URL: server.url, FIREBREAK_TOKEN: token };
      const files = [path.join(ROOT, 'test/ingest/files/fixtures/auth.log')];
      const evtx = someEvtx();
      if (evtx) files.push(evtx);
      const ingested = await firebreakCli(['ingest', ...files, '--json'], cliEnv);
      const summary = JSON.parse(ingested.stdout) as { accepted: number; rejected: number };
      expect(summary.rejected).toBe(0);
      expect(summary.accepted).toBeGreaterThan(0);
      const searched = await eventually(
        async () =>
          (await firebreakCli(['events', 'search', '--q', 'event.dataset:openssh', '--json'], cliEnv)).stdout,
        (out) => out.trim().length > 0,
      );
      const first = JSON.parse(searched.trim().split('\n')[0]!) as { parser: string; raw: string };
      expect(first.parser).toBe('openssh');
      expect(typeof first.raw).toBe('string');
      if (evtx) {
        const windows = await eventually(
          () => getJson(server!.url, token, '/api/v1/events?q=event.module:windows'),
          (page) => page.items.length > 0,
        );
        expect(windows.items[0]).toMatchObject({ parser: 'windows', source: { kind: 'http' } });
        expect((windows.items[0]!.raw as { Event?: unknown }).Event).toBeDefined();
      }

      const created = await fetch(`${server.url}/api/v1/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'alertmanager', name: 'prod' }),
      });
      expect(created.status).toBe(201);
      const integration = (await created.json()) as { url: string; token: string };
      const hook = await fetch(integration.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${integration.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          version: '4',
          groupKey: '{}:{alertname="DiskFull"}',
          status: 'firing',
          receiver: 'firebreak',
          groupLabels: { alertname: 'DiskFull' },
          commonLabels: { alertname: 'DiskFull', severity: 'critical' },
          commonAnnotations: {},
          externalURL: 'http://alertmanager:9093',
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'DiskFull', severity: 'critical', instance: 'db1:9100' },
              annotations: { summary: 'Disk almost full on db1' },
              startsAt: '2026-11-27T04:00:00Z',
              endsAt: '0001-01-01T00:00:00Z',
              generatorURL: 'http://prometheus:9090/graph',
              fingerprint: 'c0ffee0123456789',
            },
          ],
        }),
      });
      expect(hook.status).toBe(202);
      const alerts = await getJson(server.url, token, '/api/v1/alerts?limit=50');
      expect(
        alerts.items.some((a) => a.title === 'Disk almost full on db1' && a.severity === 'critical'),
      ).toBe(true);
    }, 90_000);

    it('after kill -9, every acknowledged event is stored exactly once (count in = count out), and retries with the same Idempotency-Key add nothing', async () => {
      db = await engine.create();
      const port = await freePort();
      server = await startServerProcess(args(port), env);
      const token = await adminToken(server.url);
      let acknowledged = 0;
      let next = 0;
      let stop = false;
      type Batch = { key: string; body: string };
      let lastAcknowledged: Batch | null = null;
      let unanswered: Batch | null = null;
      const send = (batch: Batch) =>
        fetch(`${server!.url}/api/v1/events?source=durability`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-ndjson',
            authorization: `Bearer ${token}`,
            'idempotency-key': batch.key,
          },
          body: batch.body,
        });
      const sender = (async () => {
        for (let n = 0; !stop; n++) {
          const lines = Array.from({ length: 200 }, () => JSON.stringify({ message: `durable ${next++}` }));
          const batch = { key: `batch-${n}`, body: lines.join('\n') };
          unanswered = batch;
          try {
            const response = await send(batch);
            if (response.status === 202) {
              acknowledged += ((await response.json()) as { accepted: number }).accepted;
              lastAcknowledged = batch;
              unanswered = null;
            }
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
      // The sender retries what it sent: the last acknowledged batch (its answer might have been lost
      // on the way) and the one the crash left unanswered (taken or not). 503 while the restarted
      // server is still storing what it took before.
      const retry = async (batch: Batch) => {
        for (;;) {
          const response = await send(batch);
          if (response.status !== 503) {
            expect(response.status).toBe(202);
            return (await response.json()) as { accepted: number; duplicate: boolean };
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      };
      expect(await retry(lastAcknowledged!)).toMatchObject({ accepted: 200, duplicate: true });
      if (unanswered) expect((await retry(unanswered)).accepted).toBe(200);
      // One pass over every stored event: ids and messages from the same pages, so events still being
      // processed (spooled but never acknowledged) cannot make the two disagree.
      const count = async () => {
        let total = 0;
        let cursor: string | null = null;
        const ids = new Set<string>();
        const messages = new Set<string>();
        do {
          const page = (await getJson(
            server!.url,
            token,
            `/api/v1/events?q=durable&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
          )) as { items: Array<{ id: string; raw: { message: string } }>; next_cursor: string | null };
          for (const item of page.items) {
            ids.add(item.id);
            messages.add(item.raw.message);
          }
          total += page.items.length;
          cursor = page.next_cursor;
        } while (cursor);
        return { total, ids, messages };
      };
      // Events the server had spooled but not yet acknowledged may also appear; none may be missing or
      // doubled. Wait until every acknowledged event is there and two counts in a row agree (drained).
      let previous = -1;
      const stored = await eventually(
        count,
        (c) => {
          const settled = c.total >= acknowledged && c.total === previous;
          previous = c.total;
          return settled;
        },
        60_000,
      );
      expect(stored.total).toBeGreaterThanOrEqual(acknowledged);
      expect(stored.ids.size).toBe(stored.total);
      expect(stored.messages.size).toBe(stored.total);
      for (let i = 0; i < acknowledged; i++) expect(stored.messages.has(`durable ${i}`)).toBe(true);
    }, 90_000);
  });
});
