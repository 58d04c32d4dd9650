/**
 * Foundation benchmark: seeds 100,000 incidents and 1,000,000 alerts into SQLite, starts
 * `firebreak serve` as its own process, and measures p50/p99 latency of listing, filtering, searching
 * and the observable lookup under 50 concurrent clients (autocannon), beside a baseline measured in
 * the same run (GET /api/v1/health, which touches the database with `select 1`). Then the write rate
 * of alerts with deduplication.
 *
 * Reproduce: npm run bench -- foundation   (FIREBREAK_BENCH_SCALE=0.1 for a quick, smaller run)
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import SqliteDatabase from 'better-sqlite3';
import { uuidv7 } from 'uuidv7';
import { systemActor } from '../src/core/actor.js';
import { severityRank, SEVERITIES, INCIDENT_CATEGORIES } from '../src/core/vocabulary.js';
import { PHASES } from '../src/core/incident-lifecycle.js';
import { createApiToken, createUser, ensureDefaultOrganization } from '../src/services/identity.js';
import { openContext } from '../src/server/context.js';
import { startServerProcess } from '../test/e2e/server-process.js';

const SCALE = Number(process.env.FIREBREAK_BENCH_SCALE ?? '1');
const INCIDENTS = Math.round(100_000 * SCALE);
const ALERTS = Math.round(1_000_000 * SCALE);
const OBSERVABLES = Math.round(100_000 * SCALE);
const CONNECTIONS = 50;
const DURATION_S = Number(process.env.FIREBREAK_BENCH_SECONDS ?? '10');
/** The paced run: 50 clients each sending 10 requests a second (a very busy team, not a flood). */
const PACED_RATE = 500;

const WORDS = [
  'ransomware',
  'phishing',
  'beacon',
  'exfiltration',
  'brute force',
  'privilege escalation',
  'lateral movement',
  'malware',
  'scanner',
  'dns tunnel',
];
const HOSTS = Array.from({ length: 500 }, (_, i) => `host-${i}`);

function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length]!;
}

/** mulberry32: a small seeded PRNG, so seeded attributes are independent of each other and repeatable. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(20261126);
function any<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function ipFor(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

async function seed(dataDir: string): Promise<{ token: string; seconds: number }> {
  const started = performance.now();
  const context = await openContext({ dataDir, databaseUrl: undefined });
  const org = await ensureDefaultOrganization(context);
  const user = await createUser(context, systemActor(org.id), {
    email: 'bench@example.test',
    role: 'admin',
    password: 'benchmark password',
  });
  const { secret } = await createApiToken(context, systemActor(org.id), { userId: user.id, name: 'bench' });
  await context.database.close();

  const db = new SqliteDatabase(path.join(dataDir, 'firebreak.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF'); // seeding only; the server runs with its own FULL setting
  const year = Date.parse('2026-01-01T00:00:00.000Z');
  const span = 330 * 24 * 3600 * 1000;
  const insertIncident = db.prepare(
    `insert into incidents (id, org_id, title, description, severity, severity_rank, category, tlp, phase, assignee_id, personal_data,
      resolution, review_summary, phase_entered_at, detected_at, created_at, updated_at, acknowledged_at, contained_at, remediated_at, closed_at)
     values (?, ?, ?, ?, ?, ?, ?, 'amber', ?, null, ?, null, null, '{}', ?, ?, ?, null, null, null, null)`,
  );
  const insertAlert = db.prepare(
    `insert into alerts (id, org_id, title, source, rule, severity, severity_rank, status, dismiss_reason, dismiss_comment, dedup_key,
      first_seen, last_seen, occurrence_count, payload, incident_id, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, null, null, ?, ?, ?, 1, ?, ?, ?, ?)`,
  );
  const insertObservable = db.prepare(
    `insert into observables (id, org_id, type, value, ioc, tlp, description, sightings, first_seen, last_seen) values (?, ?, 'ip', ?, 0, 'amber', '', 0, ?, ?)`,
  );
  const insertLink = db.prepare(
    `insert into observable_links (id, org_id, observable_id, incident_id, alert_id, created_at) values (?, ?, ?, ?, ?, ?)`,
  );

  const incidentIds: string[] = [];
  const observableIds: string[] = [];
  db.transaction(() => {
    for (let i = 0; i < INCIDENTS; i += 1) {
      const at = new Date(year + Math.floor((i / INCIDENTS) * span)).toISOString();
      const id = uuidv7();
      incidentIds.push(id);
      const severity = any(SEVERITIES);
      insertIncident.run(
        id,
        org.id,
        `${any(WORDS)} on ${any(HOSTS)} #${i}`,
        `Seeded incident ${i}`,
        severity,
        severityRank(severity),
        any(INCIDENT_CATEGORIES),
        any(PHASES),
        i % 5 === 0 ? 1 : 0,
        at,
        at,
        at,
      );
    }
    for (let i = 0; i < OBSERVABLES; i += 1) {
      const at = new Date(year).toISOString();
      const id = uuidv7();
      observableIds.push(id);
      insertObservable.run(id, org.id, ipFor(i), at, at);
    }
  })();
  const BATCH = 50_000;
  for (let start = 0; start < ALERTS; start += BATCH) {
    db.transaction(() => {
      for (let i = start; i < Math.min(ALERTS, start + BATCH); i += 1) {
        const at = new Date(year + Math.floor((i / ALERTS) * span)).toISOString();
        const id = uuidv7();
        const severity = any(SEVERITIES);
        const incidentId = random() < 0.1 ? any(incidentIds) : null;
        const observable = any(observableIds);
        insertAlert.run(
          id,
          org.id,
          `${any(WORDS)} from ${ipFor(i % OBSERVABLES)}`,
          any(['suricata', 'sysmon', 'sshd', 'wazuh']),
          `rule-${i % 300}`,
          severity,
          severityRank(severity),
          incidentId ? 'escalated' : any(['new', 'acknowledged', 'dismissed']),
          `seed:${i}`,
          at,
          at,
          JSON.stringify({ seq: i, host: any(HOSTS) }),
          incidentId,
          at,
          at,
        );
        insertLink.run(uuidv7(), org.id, observable, null, id, at);
        if (incidentId && random() < 0.5) {
          try {
            insertLink.run(uuidv7(), org.id, observable, incidentId, null, at);
          } catch {
            // the same observable already linked to this incident
          }
        }
      }
    })();
  }
  db.exec(
    'update observables set sightings = (select count(*) from observable_links l where l.observable_id = observables.id)',
  );
  db.exec('analyze');
  db.close();
  return { token: secret, seconds: (performance.now() - started) / 1000 };
}

interface Scenario {
  readonly name: string;
  readonly method?: 'GET' | 'POST';
  /** Called per request so paths and bodies vary. */
  readonly next: (n: number) => { path: string; body?: string };
}

interface Measured {
  readonly name: string;
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

/** Closed loop: each of the 50 connections sends its next request as soon as the last one answers. */
async function measureSaturated(url: string, token: string, scenario: Scenario): Promise<Measured> {
  let n = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: [
      {
        method: scenario.method ?? 'GET',
        setupRequest: (request) => {
          const next = scenario.next(n++);
          return { ...request, path: next.path, ...(next.body ? { body: next.body } : {}) };
        },
      },
    ],
  });
  return {
    name: scenario.name,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Open loop: requests start on a fixed schedule (`rate` per second) over up to 50 keep-alive
 * connections, whatever the answers do, and each latency counts from the scheduled start, so a
 * stalled server cannot hide its delay (no coordinated omission). autocannon's own pacing sends in
 * bursts, which measures its bursts rather than the server.
 */
async function measurePaced(url: string, token: string, scenario: Scenario, rate: number): Promise<Measured> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const target = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let n = 0;
  const total = rate * DURATION_S;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  const fire = (scheduledAt: number) =>
    new Promise<void>((resolve) => {
      const next = scenario.next(n++);
      const request = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: next.path,
          method: scenario.method ?? 'GET',
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            ...(next.body ? { 'content-type': 'application/json' } : {}),
          },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            if ((response.statusCode ?? 0) >= 300) non2xx += 1;
            latencies.push(performance.now() - scheduledAt);
            resolve();
          });
        },
      );
      request.on('error', () => {
        errors += 1;
        resolve();
      });
      request.end(next.body);
    });
  for (let i = 0; i < total; i += 1) {
    const scheduledAt = started + (i * 1000) / rate;
    const wait = scheduledAt - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inflight.push(fire(scheduledAt));
  }
  await Promise.all(inflight);
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    name: scenario.name,
    requests: sorted.length,
    rps: sorted.length / ((performance.now() - started) / 1000),
    p50: Math.round(percentile(sorted, 50) * 10) / 10,
    p99: Math.round(percentile(sorted, 99) * 10) / 10,
    errors,
    non2xx,
  };
}

async function collectCursors(url: string, token: string, pages: number): Promise<string[]> {
  const cursors: string[] = [];
  let cursor: string | null = null;
  const stride = Math.max(1, Math.floor(INCIDENTS / 50 / pages));
  for (let page = 0; cursors.length < pages; page += 1) {
    const res = await fetch(`${url}/api/v1/incidents?limit=50${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await res.json()) as { next_cursor: string | null };
    if (!body.next_cursor) break;
    cursor = body.next_cursor;
    if (page % stride === 0) cursors.push(cursor);
  }
  return cursors;
}

/** Bump when `seed` changes what it writes, so cached databases are rebuilt. */
const SEED_VERSION = 2;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Seeding a million alerts takes minutes, so the seeded database is kept in bench/.cache (ignored by
 * git), keyed by the scale, a hash of the migrations and SEED_VERSION; each run works on a copy.
 */
async function seededCopy(dataDir: string): Promise<string> {
  const hash = createHash('sha256');
  const migrations = path.join(ROOT, 'src/storage/migrations');
  for (const file of readdirSync(migrations).sort()) hash.update(readFileSync(path.join(migrations, file)));
  hash.update(`seed-version:${SEED_VERSION}`);
  const cacheDir = path.join(ROOT, 'bench/.cache');
  const key = `foundation-${SCALE}-${hash.digest('hex').slice(0, 12)}`;
  const cachedDb = path.join(cacheDir, `${key}.db`);
  const cachedToken = path.join(cacheDir, `${key}.token`);
  if (!existsSync(cachedDb) || !existsSync(cachedToken)) {
    process.stdout.write(
      `seeding ${INCIDENTS.toLocaleString('en')} incidents, ${ALERTS.toLocaleString('en')} alerts, ${OBSERVABLES.toLocaleString('en')} observables into SQLite (cached for later runs in bench/.cache)...\n`,
    );
    const seedDir = mkdtempSync(path.join(tmpdir(), 'firebreak-seed-'));
    try {
      const { token, seconds } = await seed(seedDir);
      process.stdout.write(`seeded in ${seconds.toFixed(1)} s\n`);
      mkdirSync(cacheDir, { recursive: true });
      for (const old of readdirSync(cacheDir))
        if (old.startsWith(`foundation-${SCALE}-`)) rmSync(path.join(cacheDir, old));
      renameSync(path.join(seedDir, 'firebreak.db'), cachedDb);
      writeFileSync(cachedToken, token, { mode: 0o600 });
    } finally {
      rmSync(seedDir, { recursive: true, force: true });
    }
  } else {
    process.stdout.write(`using the seeded database ${path.relative(ROOT, cachedDb)}\n`);
  }
  copyFileSync(cachedDb, path.join(dataDir, 'firebreak.db'));
  return readFileSync(cachedToken, 'utf8');
}

export async function runFoundationBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'firebreak-bench-'));
  try {
    const token = await seededCopy(dataDir);
    const server = await startServerProcess(['--data-dir', dataDir], { FIREBREAK_LOG_LEVEL: 'warn' });
    try {
      const cursors = await collectCursors(server.url, token, 100);
      const scenarios: Scenario[] = [
        { name: 'baseline: GET /health', next: () => ({ path: '/api/v1/health' }) },
        { name: 'list incidents, first page of 50', next: () => ({ path: '/api/v1/incidents?limit=50' }) },
        {
          name: 'list incidents, deep pages (cursor)',
          next: (n) => ({ path: `/api/v1/incidents?limit=50&cursor=${pick(cursors, n)}` }),
        },
        {
          name: 'filter phase+severity, sort severity',
          next: (n) => ({
            path: `/api/v1/incidents?limit=50&phase=${pick(PHASES, n)}&severity=high,critical&sort=severity`,
          }),
        },
        {
          name: 'search q= (title/description)',
          next: (n) => ({ path: `/api/v1/incidents?limit=50&q=${encodeURIComponent(pick(WORDS, n))}` }),
        },
        { name: 'list alerts status=new', next: () => ({ path: '/api/v1/alerts?limit=50&status=new' }) },
        {
          name: 'observable lookup (ip)',
          next: (n) => ({
            path: `/api/v1/observables/lookup?type=ip&value=${ipFor((n * 7919) % OBSERVABLES)}`,
          }),
        },
        {
          name: 'write alerts, 90% dedup repeats',
          method: 'POST',
          next: (n) => ({
            path: '/api/v1/alerts',
            body: JSON.stringify({
              title: 'Bench alert',
              severity: 'medium',
              source: 'bench',
              dedup_key: n % 10 === 0 ? `bench-new-${n}` : `bench-repeat-${n % 1000}`,
              observables: [{ type: 'ip', value: ipFor(n % OBSERVABLES) }],
            }),
          }),
        },
      ];
      const saturated: Measured[] = [];
      const paced: Measured[] = [];
      const line = (mode: string, r: Measured) =>
        process.stdout.write(
          `  ${mode.padEnd(9)} ${r.name.padEnd(40)} p50 ${String(r.p50).padStart(4)} ms  p99 ${String(r.p99).padStart(4)} ms  ${Math.round(r.rps).toString().padStart(6)} req/s${r.errors || r.non2xx ? `  errors ${r.errors} non-2xx ${r.non2xx}` : ''}\n`,
        );
      for (const scenario of scenarios) {
        if (!scenario.method) {
          paced.push(await measurePaced(server.url, token, scenario, PACED_RATE));
          line('paced', paced.at(-1)!);
        }
        saturated.push(await measureSaturated(server.url, token, scenario));
        line('saturated', saturated.at(-1)!);
      }
      const base = saturated[0]!;
      const pacedBase = paced[0]!;
      process.stdout.write(
        `\nFoundation benchmark: SQLite, ${INCIDENTS.toLocaleString('en')} incidents, ${ALERTS.toLocaleString('en')} alerts, ${CONNECTIONS} concurrent clients, ${DURATION_S} s per run.\n` +
          `paced = requests start on a fixed schedule of ${PACED_RATE}/s (open loop, latency from the scheduled start); saturated = ${CONNECTIONS} clients each send the next request as soon as the last one answers (autocannon).\n` +
          `Ratios are against the baseline (GET /health) measured in the same run and mode.\n\n`,
      );
      process.stdout.write(
        `| scenario | paced p50 ms | paced p99 ms | paced p99 / baseline | saturated p50 ms | saturated p99 ms | saturated req/s | req/s / baseline |\n|---|---:|---:|---:|---:|---:|---:|---:|\n`,
      );
      for (const r of saturated) {
        const p = paced.find((x) => x.name === r.name);
        process.stdout.write(
          `| ${r.name} | ${p ? p.p50 : '–'} | ${p ? p.p99 : '–'} | ${p ? (p.p99 / Math.max(1, pacedBase.p99)).toFixed(1) : '–'} | ${r.p50} | ${r.p99} | ${Math.round(r.rps)} | ${(r.rps / base.rps).toFixed(3)} |\n`,
        );
      }
      const results = [...saturated, ...paced];
      const bad = results.filter((r) => r.errors > 0 || r.non2xx > 0);
      if (bad.length) process.stdout.write(`\nWARNING: errors in ${bad.map((r) => r.name).join(', ')}\n`);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
