/**
 * End-to-end ingestion: events offered over TCP syslog and HTTP NDJSON until the pipeline has parsed,
 * normalised, stored (durable spool on) and run detection on every one of them. Each figure stands
 * beside a baseline measured in the same run: a plain server receiving the same bytes and only
 * counting them. Also: peak memory while far more is offered than the pipeline can take.
 *
 *   npm run bench -- ingest          (FIREBREAK_BENCH_INGEST_EVENTS overrides the event count;
 *                                     FIREBREAK_BENCH_INGEST_PHASES=syslog,http,overload picks phases)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/server/config.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { createApiToken } from '../src/services/identity.js';
import { findUserByEmail } from '../src/storage/identity-repository.js';
import { actorForUser } from '../src/services/identity.js';
import { freePort } from '../test/e2e/server-process.js';

const EVENTS = Number(process.env.FIREBREAK_BENCH_INGEST_EVENTS ?? 200_000);
const PHASES = new Set((process.env.FIREBREAK_BENCH_INGEST_PHASES ?? 'syslog,http,overload').split(','));

const USERS = ['root', 'admin', 'alice', 'bob', 'deploy', 'postgres', 'ubuntu', 'git'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const FIRST_LINE_MS = Date.UTC(2026, 10, 27, 4, 0, 0);
const two = (n: number) => String(n).padStart(2, '0');

/**
 * Line `i` of a syslog stream: ten lines per second of event time, always forward, as a live stream's
 * times go (an earlier version repeated the same hour every 36,000 lines, which made every later batch
 * land in the middle of the events' time index instead of at its end).
 */
export function syslogLine(i: number): string {
  const ip = `203.0.${(i >> 8) & 255}.${i & 255}`;
  const user = USERS[i % USERS.length];
  const at = new Date(FIRST_LINE_MS + Math.floor(i / 10) * 1000);
  const time = `${MONTHS[at.getUTCMonth()]} ${String(at.getUTCDate()).padStart(2, ' ')} ${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())}`;
  switch (i % 5) {
    case 0:
      return `<38>${time} web${i % 7} sshd[${1000 + (i % 5000)}]: Failed password for ${user} from ${ip} port ${40000 + (i % 20000)} ssh2`;
    case 1:
      return `<38>${time} web${i % 7} sshd[${1000 + (i % 5000)}]: Accepted publickey for ${user} from ${ip} port ${40000 + (i % 20000)} ssh2: RSA SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG`;
    case 2:
      return `<85>${time} web${i % 7} sudo: ${user} : TTY=pts/0 ; PWD=/home/${user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx`;
    case 3:
      return `<78>${time} web${i % 7} CRON[${2000 + (i % 3000)}]: (${user}) CMD (/usr/local/bin/backup.sh --incremental)`;
    default:
      return `<6>${time} web${i % 7} kernel: [UFW BLOCK] IN=eth0 OUT= SRC=${ip} DST=10.0.0.5 PROTO=TCP SPT=${40000 + (i % 20000)} DPT=22`;
  }
}

function jsonLine(i: number): string {
  return JSON.stringify({
    '@timestamp': new Date(Date.UTC(2026, 10, 27, 4, 0, 0) + i).toISOString(),
    message: `GET /api/items/${i} 200`,
    source: { ip: `198.51.100.${i & 255}` },
    user: { name: USERS[i % USERS.length] },
    http: { response: { status_code: 200, body: { bytes: 512 + (i % 4096) } } },
  });
}

/** Writes the buffer over TCP as fast as the receiver reads it. */
function sendTcp(port: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end(data);
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

async function tcpBaseline(data: Buffer): Promise<number> {
  let received = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const server = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= data.length) done();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const start = performance.now();
  await Promise.all([sendTcp(port, data), finished]);
  const ms = performance.now() - start;
  server.close();
  return ms;
}

async function postBatches(
  url: string,
  token: string | null,
  batches: string[],
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const body = batches[next++]!;
      for (;;) {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-ndjson',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body,
        });
        await response.arrayBuffer();
        if (response.status === 429) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        if (response.status >= 300) throw new Error(`POST answered ${response.status}`);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function httpBaseline(batches: string[]): Promise<number> {
  const server = http.createServer((request, response) => {
    let bytes = 0;
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ accepted: bytes }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const start = performance.now();
  await postBatches(`http://127.0.0.1:${port}/`, null, batches, 4);
  const ms = performance.now() - start;
  server.close();
  return ms;
}

/** CPU seconds used so far by each thread of this process (Linux /proc), by thread id. */
function threadCpu(): Map<number, { name: string; seconds: number }> {
  const out = new Map<number, { name: string; seconds: number }>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // utime and stime, fields 14 and 15 of stat (11 and 12 after the name), in clock ticks (100/s).
      out.set(Number(tid), { name, seconds: (Number(fields[11]) + Number(fields[12])) / 100 });
    }
  } catch {
    // Not Linux: no per-thread figures.
  }
  return out;
}

/**
 * Where a phase's CPU went, per thread: on an otherwise idle machine with a core per busy thread, the
 * busiest thread bounds the rate, so events / its CPU time is the rate this machine can reach when
 * nothing else runs (the measured rate is lower whenever other work shares the cores).
 */
function cpuReport(before: Map<number, { name: string; seconds: number }>, events: number): string {
  const after = threadCpu();
  const used = [...after]
    .map(([tid, t]) => ({ tid, name: t.name, seconds: t.seconds - (before.get(tid)?.seconds ?? 0) }))
    .filter((t) => t.seconds >= 0.05)
    .sort((a, b) => b.seconds - a.seconds);
  if (used.length === 0) return '';
  const busiest = used[0]!.seconds;
  const main = used.find((t) => t.tid === process.pid);
  const total = used.reduce((sum, t) => sum + t.seconds, 0);
  return (
    `  CPU ${total.toFixed(2)} s in all; by thread: ${used
      .slice(0, 6)
      .map((t) => `${t.tid === process.pid ? 'main' : t.name} ${t.seconds.toFixed(2)} s`)
      .join(', ')}; ` +
    `main ${main ? ((main.seconds * 1e6) / events).toFixed(1) : '?'} µs/event; ` +
    `busiest thread bounds the rate at ${rate(events, busiest * 1000)}`
  );
}

async function until(server: RunningServer, processed: number): Promise<void> {
  while (server.ingestion.pipeline.stats().processed < processed) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en')} events/s`;
}

export async function runIngestBench(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'firebreak-bench-ingest-'));
  const syslogPort = await freePort();
  const server = await startServer(
    loadConfig({ dataDir, port: 0, syslogPort, logLevel: 'silent', adminPassword: 'bench-password-123' }),
  );
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  let peakExternal = process.memoryUsage().external;
  let peakAnon = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    // RSS counts the SQLite file's memory-mapped pages too (reclaimable); RssAnon is the process's own.
    const anon = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (anon) peakAnon = Math.max(peakAnon, Number(anon[1]) * 1024);
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakExternal = Math.max(peakExternal, m.external + m.arrayBuffers);
  }, 25);
  try {
    const admin = (await findUserByEmail(server.context.database.db, 'admin@firebreak.local'))!.user;
    const token = (
      await createApiToken(server.context, actorForUser(admin), { userId: admin.id, name: 'bench' })
    ).secret;
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`events per run: ${EVENTS.toLocaleString('en')}; rules: the server's active set`);

    // --- TCP syslog
    const syslogData = Buffer.from(Array.from({ length: EVENTS }, (_, i) => syslogLine(i)).join('\n') + '\n');
    const rssBefore = process.memoryUsage().rss;
    if (PHASES.has('syslog')) {
      const tcpBase = await tcpBaseline(syslogData);
      const before = server.ingestion.pipeline.stats().processed;
      const cpuBefore = threadCpu();
      const start = performance.now();
      await sendTcp(syslogPort, syslogData);
      await until(server, before + EVENTS);
      const tcpMs = performance.now() - start;
      out(
        `syslog TCP end to end: ${rate(EVENTS, tcpMs)} (${tcpMs.toFixed(0)} ms); baseline (same bytes, counted only): ` +
          `${rate(EVENTS, tcpBase)}; ratio ${(tcpMs / tcpBase).toFixed(1)}x`,
      );
      out(cpuReport(cpuBefore, EVENTS));
    }

    // --- HTTP NDJSON
    if (PHASES.has('http')) {
      const batches: string[] = [];
      for (let i = 0; i < EVENTS; i += 5000) {
        batches.push(
          Array.from({ length: Math.min(5000, EVENTS - i) }, (_, k) => jsonLine(i + k)).join('\n'),
        );
      }
      const httpBase = await httpBaseline(batches);
      const before = server.ingestion.pipeline.stats().processed;
      const cpuBefore = threadCpu();
      const start = performance.now();
      await postBatches(`${server.url}/api/v1/events?source=bench`, token, batches, 4);
      await until(server, before + EVENTS);
      const httpMs = performance.now() - start;
      out(
        `HTTP NDJSON end to end: ${rate(EVENTS, httpMs)} (${httpMs.toFixed(0)} ms); baseline (same batches, counted only): ` +
          `${rate(EVENTS, httpBase)}; ratio ${(httpMs / httpBase).toFixed(1)}x`,
      );
      out(cpuReport(cpuBefore, EVENTS));
    }

    // --- Overload: offer ten times the run at once over several connections; memory must stay bounded.
    if (PHASES.has('overload')) {
      const burst = Array.from({ length: 4 }, () => sendTcp(syslogPort, syslogData));
      const overloadStart = performance.now();
      const target = server.ingestion.pipeline.stats().processed + 4 * EVENTS;
      await Promise.all(burst);
      await until(server, target);
      const overloadMs = performance.now() - overloadStart;
      out(
        `overload (${(4 * EVENTS).toLocaleString('en')} events offered at once on 4 connections): ` +
          `${rate(4 * EVENTS, overloadMs)}; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB ` +
          `(${(rssBefore / 2 ** 20).toFixed(0)} MiB before the runs; anonymous ${(peakAnon / 2 ** 20).toFixed(0)} MiB; peak JS heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB, ` +
          `buffers ${(peakExternal / 2 ** 20).toFixed(0)} MiB)`,
      );
    }
    const spool = server.ingestion.spool.stats();
    out(`spool: ${spool.writes} writes, ${spool.fsyncs} fsyncs for ${spool.appendedRecords} records`);
  } finally {
    clearInterval(sampler);
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
