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

    // Baseline: read and JSON.parse the same file (same reader, no rules). The host's load drifts over a
    // run of minutes (by half, seen here): every hunt is measured between two baselines and compared
    // with their mean, so that a drift weighs on both sides of a ratio alike.
    const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
    const baseline = async (): Promise<{ ms: number; cpu: number; parsed: number }> => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      let parsed = 0;
      for await (const r of readJsonDocuments(file)) if (r.value !== null) parsed++;
      return { ms: performance.now() - t0, cpu: cpuMs(process.cpuUsage(cpu0)), parsed };
    };
    const baselines = [await baseline()];
    const rssAfterBaseline = peakRss;

    t = performance.now();
    let cpu = process.cpuUsage();
    let matches = 0;
    const summary = await runHunt([file], loaded.set, { onMatch: () => matches++ });
    const huntMs = performance.now() - t;
    const huntCpu = cpuMs(process.cpuUsage(cpu));
    baselines.push(await baseline());

    // The same hunt on worker threads, as `firebreak hunt` runs large inputs by default, in rounds (each
    // between two baselines). The workers' start-up (each compiles the rules) is reported apart, as the
    // rule loading is above.
    const threads = Number(process.env['FIREBREAK_BENCH_THREADS'] ?? availableParallelism());
    const rounds = Number(process.env['FIREBREAK_BENCH_ROUNDS'] ?? 3);
    t = performance.now();
    const pool = await HuntPool.start(loaded.set, { threads });
    const poolMs = performance.now() - t;
    const parallel: Array<{ ms: number; cpu: number; events: number; matches: number }> = [];
    try {
      for (let r = 0; r < rounds; r++) {
        t = performance.now();
        cpu = process.cpuUsage();
        let found = 0;
        const events = (await runHunt([file], loaded.set, { pool, onMatch: () => found++ })).events;
        // the process: this thread and the workers
        parallel.push({
          ms: performance.now() - t,
          cpu: cpuMs(process.cpuUsage(cpu)),
          events,
          matches: found,
        });
        baselines.push(await baseline());
      }
    } finally {
      await pool.close();
    }

    const rate = (n: number, ms: number): string =>
      `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} events/s`;
    const seconds = (ms: number): string => (ms / 1000).toFixed(2);
    const around = (i: number): number => (baselines[i]!.ms + baselines[i + 1]!.ms) / 2;
    const aroundCpu = (i: number): number => (baselines[i]!.cpu + baselines[i + 1]!.cpu) / 2;
    const parsed = baselines[0]!.parsed;
    console.log(
      `  baseline (read + JSON.parse): ${baselines.map((b) => seconds(b.ms)).join(', ')} s (before, between and after the hunts), ${rate(parsed, baselines[0]!.ms)} first${baselines.every((b) => b.parsed === parsed) ? '' : ' (DOCUMENT COUNTS DIFFER)'}`,
    );
    console.log(
      `  hunt (read + parse + ${loaded.set.rules.length} rules): ${seconds(huntMs)} s, ${rate(summary.events, huntMs)}, ${matches} matches`,
    );
    console.log(
      `  ratio hunt/baseline: ${(huntMs / around(0)).toFixed(2)} wall time (goal <= 2.00; against the mean of the baselines before and after it)`,
    );
    console.log(
      `  ratio hunt/baseline in CPU time: ${(huntCpu / aroundCpu(0)).toFixed(2)} (${(aroundCpu(0) / 1000).toFixed(1)} s vs ${(huntCpu / 1000).toFixed(1)} s)`,
    );
    console.log(`  detection alone: ${(((huntMs - around(0)) * 1000) / summary.events).toFixed(2)} us/event`);
    console.log(
      `  hunt on ${threads} worker threads (${availableParallelism()} CPUs), workers ready in ${(poolMs / 1000).toFixed(1)} s:`,
    );
    parallel.forEach((p, r) => {
      const i = r + 1;
      console.log(
        `    round ${r + 1}: ${seconds(p.ms)} s, ${rate(p.events, p.ms)}, ${p.matches} matches${p.matches === matches ? '' : ' (DIFFERS from the single-thread hunt)'}; ratio to the baselines around it ${(p.ms / around(i)).toFixed(2)} wall time (goal <= 2.00; ${(p.ms / baselines[i]!.ms).toFixed(2)} and ${(p.ms / baselines[i + 1]!.ms).toFixed(2)} against each); CPU time of all threads ${(p.cpu / 1000).toFixed(1)} s, ${(p.cpu / aroundCpu(i)).toFixed(2)} times the baseline's`,
      );
    });
    // the median; of an even count, the higher of the two middle ones
    const ratios = parallel.map((p, r) => p.ms / around(r + 1)).sort((a, b) => a - b);
    console.log(
      `  ratio parallel hunt/baseline: ${ratios[ratios.length >> 1]!.toFixed(2)} (median of ${ratios.length} round${ratios.length > 1 ? 's' : ''}: ${ratios.map((x) => x.toFixed(2)).join(', ')}; goal <= 2.00)`,
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
