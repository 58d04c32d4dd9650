/**
 * Detection benchmark: the whole SigmaHQ corpus over N EVTX-JSON events (default 1,000,000) generated
 * from the regression cases, against a baseline measured in the same run: reading and JSON.parse-ing the
 * same file without rules. Also reports peak memory and the correlation state size for 1,000,000
 * distinct group keys. Needs ../shared/data/sigma (skips with a message otherwise).
 *
 * FIREBREAK_BENCH_EVENTS overrides the event count.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CorrelationEngine } from '../src/detection/correlation.js';
import { prepareEvent } from '../src/detection/event.js';
import type { RuleInfo, SigmaCorrelationRuleWithInfo } from '../src/detection/rule-set.js';
import { runHunt } from '../src/hunt/hunt.js';
import { HuntPool } from '../src/hunt/hunt-pool.js';
import { readJsonDocuments } from '../src/hunt/json-reader.js';
import { loadMapping, loadRules } from '../src/hunt/rule-loader.js';

export const SIGMA = resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'sigma');

async function findJson(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await findJson(full)));
    else if (entry.name.endsWith('.json')) out.push(full);
  }
  return out.sort();
}

/** The SigmaHQ regression events (EVTX-JSON), in file order. */
export async function sampleEvents(): Promise<unknown[]> {
  const events: unknown[] = [];
  for (const file of await findJson(join(SIGMA, 'regression_data'))) {
    for await (const r of readJsonDocuments(file)) events.push(r.value);
  }
  return events;
}

/** Writes `count` NDJSON events cycling through the samples, with fresh record ids and times. */
export async function writeEvents(path: string, samples: unknown[], count: number): Promise<number> {
  const out = createWriteStream(path);
  const base = Date.parse('2025-01-01T00:00:00Z');
  let bytes = 0;
  let batch = '';
  for (let i = 0; i < count; i++) {
    const event = structuredClone(samples[i % samples.length]) as {
      Event?: { System?: Record<string, unknown> };
    };
    const system = event.Event?.System;
    if (system) {
      system['EventRecordID'] = i + 1;
      system['TimeCreated'] = { '#attributes': { SystemTime: new Date(base + i * 10).toISOString() } };
    }
    batch += `${JSON.stringify(event)}\n`;
    if (batch.length > 1 << 20) {
      bytes += batch.length;
      if (!out.write(batch)) await new Promise<void>((r) => out.once('drain', () => r()));
      batch = '';
    }
  }
  bytes += batch.length;
  out.write(batch);
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  return bytes;
}

let peakRss = 0;
function sampleMemory(): void {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

const mb = (n: number): string => `${(n / (1 << 20)).toFixed(0)} MiB`;

export async function runDetectionBench(): Promise<void> {
  if (!existsSync(join(SIGMA, 'rules'))) {
    console.log(`detection bench skipped: ${SIGMA} not found`);
    return;
  }
  const count = Number(process.env['FIREBREAK_BENCH_EVENTS'] ?? 1_000_000);
  const dir = await mkdtemp(join(tmpdir(), 'firebreak-bench-'));
  const timer = setInterval(sampleMemory, 100);
  try {
    const samples = await sampleEvents();
    const file = join(dir, 'events.ndjson');
    const bytes = await writeEvents(file, samples, count);
    console.log(
      `detection bench: ${count} EVTX-JSON events (${samples.length} distinct regression events), ${mb(bytes)} NDJSON`,
    );

    const mapping = await loadMapping();
    let t = performance.now();
    const loaded = await loadRules(
      ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((f) => join(SIGMA, f)),
      mapping,
    );
    const loadMs = performance.now() - t;
    console.log(
      `  rules: ${loaded.set.rules.length} compiled, ${loaded.failures.length} failed, loaded in ${(loadMs / 1000).toFixed(1)} s`,
    );

    // Baseline: read and JSON.parse the same file (same reader, no rules).
    t = performance.now();
    let cpu = process.cpuUsage();
    let parsed = 0;
    for await (const r of readJsonDocuments(file)) if (r.value !== null) parsed++;
    const baselineMs = performance.now() - t;
    const baselineCpu = process.cpuUsage(cpu);
    const rssAfterBaseline = peakRss;

    t = performance.now();
    cpu = process.cpuUsage();
    let matches = 0;
    const summary = await runHunt([file], loaded.set, { onMatch: () => matches++ });
    const huntMs = performance.now() - t;
    const huntCpu = process.cpuUsage(cpu);
    const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

    // The same hunt on worker threads, as `firebreak hunt` runs large inputs by default. The workers'
    // start-up (each compiles the rules) is reported apart, as the rule loading is above.
    const threads = Number(process.env['FIREBREAK_BENCH_THREADS'] ?? availableParallelism());
    t = performance.now();
    const pool = await HuntPool.start(loaded.set, { threads });
    const poolMs = performance.now() - t;
    t = performance.now();
    cpu = process.cpuUsage();
    let parallelMatches = 0;
    let parallelEvents = 0;
    try {
      parallelEvents = (await runHunt([file], loaded.set, { pool, onMatch: () => parallelMatches++ })).events;
    } finally {
      await pool.close();
    }
    const parallelMs = performance.now() - t;
    const parallelCpu = process.cpuUsage(cpu); // the process: this thread and the workers

    // The baseline once more, after the hunts: the host's load drifts over a run of minutes, and the
    // two baselines show by how much (the ratios below are against the first).
    t = performance.now();
    let parsedAgain = 0;
    for await (const r of readJsonDocuments(file)) if (r.value !== null) parsedAgain++;
    const baselineAgainMs = performance.now() - t;

    const rate = (n: number, ms: number): string =>
      `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} events/s`;
    console.log(
      `  baseline (read + JSON.parse): ${(baselineMs / 1000).toFixed(2)} s, ${rate(parsed, baselineMs)}; again after the hunts ${(baselineAgainMs / 1000).toFixed(2)} s (${baselineAgainMs >= baselineMs ? '+' : ''}${(((baselineAgainMs - baselineMs) / baselineMs) * 100).toFixed(0)}%: the host's drift during the run)${parsedAgain === parsed ? '' : ' (DOCUMENT COUNTS DIFFER)'}`,
    );
    console.log(
      `  hunt (read + parse + ${loaded.set.rules.length} rules): ${(huntMs / 1000).toFixed(2)} s, ${rate(summary.events, huntMs)}, ${matches} matches`,
    );
    console.log(`  ratio hunt/baseline: ${(huntMs / baselineMs).toFixed(2)} wall time (goal <= 2.00)`);
    console.log(
      `  ratio hunt/baseline in CPU time (steadier on a shared machine): ${(cpuMs(huntCpu) / cpuMs(baselineCpu)).toFixed(2)} (${(cpuMs(baselineCpu) / 1000).toFixed(1)} s vs ${(cpuMs(huntCpu) / 1000).toFixed(1)} s)`,
    );
    console.log(
      `  detection alone: ${(((huntMs - baselineMs) * 1000) / summary.events).toFixed(2)} us/event`,
    );
    console.log(
      `  hunt on ${threads} worker threads (${availableParallelism()} CPUs): ${(parallelMs / 1000).toFixed(2)} s, ${rate(parallelEvents, parallelMs)}, ${parallelMatches} matches${parallelMatches === matches ? '' : ' (DIFFERS from the single-thread hunt)'}; workers ready in ${(poolMs / 1000).toFixed(1)} s`,
    );
    console.log(
      `  ratio parallel hunt/baseline: ${(parallelMs / baselineMs).toFixed(2)} wall time (goal <= 2.00; ${(parallelMs / baselineAgainMs).toFixed(2)} against the baseline measured after it); CPU time of all threads ${(cpuMs(parallelCpu) / 1000).toFixed(1)} s, ${(cpuMs(parallelCpu) / cpuMs(baselineCpu)).toFixed(2)} times the baseline's`,
    );
    sampleMemory();
    console.log(`  peak RSS: ${mb(peakRss)} (after baseline ${mb(rssAfterBaseline)})`);

    // Correlation state for 1,000,000 distinct keys.
    const info: RuleInfo = { id: 'base', title: 'base', level: 'low', tags: [] };
    const correlation: SigmaCorrelationRuleWithInfo = {
      info: { id: 'corr', title: 'corr', level: 'high', tags: [] },
      source: {
        kind: 'correlation',
        title: 'corr',
        type: 'event_count',
        rules: ['base'],
        groupBy: ['User'],
        timespanMs: 3_600_000,
        condition: { gte: 1000 },
        aliases: {},
        generate: false,
        tags: [],
        references: [],
        falsepositives: [],
      },
    };
    const engine = new CorrelationEngine([correlation], { maxGroups: 2_000_000 });
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    const keys = 1_000_000;
    for (let i = 0; i < keys; i++)
      engine.observe(info, prepareEvent({ User: `user${i}` }), 1_700_000_000_000 + i);
    global.gc?.();
    const after = process.memoryUsage().heapUsed;
    const size = engine.size();
    const stateJson = JSON.stringify(engine.exportState()).length;
    console.log(
      `  correlation state, ${keys.toLocaleString('en-US')} distinct keys: ${size.groups} groups, heap +${mb(after - before)} (${Math.round((after - before) / keys)} B/key), checkpoint ${mb(stateJson)} JSON`,
    );
  } finally {
    clearInterval(timer);
    await rm(dir, { recursive: true, force: true });
  }
}
