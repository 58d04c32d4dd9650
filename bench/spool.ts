/**
 * Spool throughput beside baselines measured in the same run (this machine is shared and noisy):
 * - append: 500k realistic events (~360 bytes as JSON) in calls of 100, from 1, 16 and 256
 *   concurrent appenders, each call waiting for its fsync (group commit shares them);
 *   baseline: the same events serialised and written with fs.writeSync, one fsync at the end
 *   (no durability per call: the ceiling for this disk and serialiser);
 * - read-back: the 500k events read in batches of 1000 (CRC check + JSON.parse);
 *   baseline: JSON.parse of the same 500k bodies already in memory.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReceivedEvent } from '../src/ingest/event-record.js';
import { openFileSpool, type SpooledEvent } from '../src/ingest/spool/index.js';
import { buildReceivedEvent } from '../test/ingest/spool/events.js';

const TOTAL = 500_000;
const CALL_EVENTS = 100;
const DISTINCT = 20_000;
const MiB = 1024 * 1024;

function eventPool(): ReceivedEvent[] {
  return Array.from({ length: DISTINCT }, (_, i) => buildReceivedEvent(i + 1));
}

function batchAt(pool: ReceivedEvent[], call: number): ReceivedEvent[] {
  const start = (call * CALL_EVENTS) % DISTINCT;
  return pool.slice(start, start + CALL_EVENTS);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'firebreak-spool-bench-'));
  return work(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Serialise + writeSync in 1 MiB chunks + one fsync: the same bytes without per-call durability. */
function baselineWrite(
  dir: string,
  pool: ReceivedEvent[],
): { seconds: number; cpuSeconds: number; bytes: number } {
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const fd = openSync(join(dir, 'baseline.bin'), 'w');
  let bytes = 0;
  let chunk: string[] = [];
  let chunkBytes = 0;
  const flush = () => {
    const buffer = Buffer.from(chunk.join('\n'));
    writeSync(fd, buffer);
    bytes += buffer.length;
    chunk = [];
    chunkBytes = 0;
  };
  for (let i = 0; i < TOTAL; i++) {
    const body = JSON.stringify(pool[i % DISTINCT]);
    chunk.push(body);
    chunkBytes += body.length + 16;
    if (chunkBytes >= MiB) flush();
  }
  flush();
  fsyncSync(fd);
  closeSync(fd);
  const cpu = process.cpuUsage(cpuStart);
  return {
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    bytes,
  };
}

interface AppendRun {
  readonly appenders: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly bytes: number;
  readonly writes: number;
  readonly fsyncs: number;
  readonly p50: number;
  readonly p99: number;
}

async function appendRun(
  dir: string,
  pool: ReceivedEvent[],
  appenders: number,
  readBack: boolean,
): Promise<{ run: AppendRun; read?: { seconds: number; events: number } }> {
  const spool = await openFileSpool({ directory: dir, backlogLimitBytes: 1024 * MiB });
  const calls = TOTAL / CALL_EVENTS;
  let nextCall = 0;
  const latencies: number[] = [];
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      for (let call = nextCall++; call < calls; call = nextCall++) {
        const t = performance.now();
        await spool.append(batchAt(pool, call));
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const stats = spool.stats();
  latencies.sort((a, b) => a - b);
  const run: AppendRun = {
    appenders,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    bytes: stats.appendedBytes,
    writes: stats.writes,
    fsyncs: stats.fsyncs,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
  let read: { seconds: number; events: number } | undefined;
  if (readBack) {
    const readStart = performance.now();
    let events = 0;
    for (let after = 0; ;) {
      const page = await spool.read(after, 1000);
      if (page.length === 0) break;
      events += page.length;
      after = (page.at(-1) as SpooledEvent).position;
    }
    read = { seconds: (performance.now() - readStart) / 1000, events };
  }
  await spool.close();
  return { run, read };
}

function parseBaseline(pool: ReceivedEvent[]): number {
  const bodies = pool.map((event) => JSON.stringify(event));
  const started = performance.now();
  let checksum = 0;
  for (let i = 0; i < TOTAL; i++) {
    checksum += (JSON.parse(bodies[i % DISTINCT] as string) as ReceivedEvent).id.length;
  }
  if (checksum === 0) throw new Error('unreachable');
  return (performance.now() - started) / 1000;
}

const rate = (events: number, seconds: number) => `${Math.round(events / seconds / 1000)}k events/s`;
const mbps = (bytes: number, seconds: number) => `${(bytes / MiB / seconds).toFixed(0)} MiB/s`;

/** Runs the spool benchmark (about 20-40 s) and returns its report. */
export async function runSpoolBench(): Promise<string> {
  const pool = eventPool();
  const lines: string[] = [
    `spool: ${TOTAL} events of ~${Buffer.byteLength(JSON.stringify(pool[0]))} bytes as JSON, ` +
      `${CALL_EVENTS} per append call, files in ${tmpdir()}`,
  ];
  const baseline = await withTempDir(async (dir) => baselineWrite(dir, pool));
  lines.push(
    `  baseline  serialise + writeSync + 1 fsync    ${rate(TOTAL, baseline.seconds).padStart(18)}` +
      `  ${mbps(baseline.bytes, baseline.seconds)}  (${baseline.seconds.toFixed(2)} s, CPU ${baseline.cpuSeconds.toFixed(2)} s)`,
  );
  let readResult: { seconds: number; events: number } | undefined;
  for (const appenders of [1, 16, 256]) {
    const { run, read } = await withTempDir((dir) => appendRun(dir, pool, appenders, appenders === 256));
    readResult = read ?? readResult;
    lines.push(
      `  append    ${String(appenders).padStart(3)} appender(s), fsync per call ${rate(TOTAL, run.seconds).padStart(18)}` +
        `  ${mbps(run.bytes, run.seconds)}  (${run.seconds.toFixed(2)} s, CPU ${run.cpuSeconds.toFixed(2)} s; ${run.writes} writes, ` +
        `${(TOTAL / CALL_EVENTS / run.writes).toFixed(1)} calls per fsync; ` +
        `call latency p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms)`,
    );
  }
  const parseSeconds = parseBaseline(pool);
  lines.push(
    `  baseline  JSON.parse of the same bodies in memory ${rate(TOTAL, parseSeconds).padStart(9)}` +
      `  (${parseSeconds.toFixed(2)} s)`,
  );
  if (readResult) {
    lines.push(
      `  read-back batches of 1000 (CRC + JSON.parse) ${rate(readResult.events, readResult.seconds).padStart(11)}` +
        `  (${readResult.seconds.toFixed(2)} s, ${readResult.events} events)`,
    );
  }
  return lines.join('\n');
}
