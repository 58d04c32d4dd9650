/**
 * Tools for working on the hunt's speed (not part of `npm run bench`):
 *
 *   node --import tsx bench/detection-profile.ts hunt N       time the hunt alone over N events (CPU time)
 *   node --import tsx bench/detection-profile.ts baseline N   read + JSON.parse alone
 *   node --import tsx bench/detection-profile.ts empty N      the hunt with no rules (its own overhead)
 *   node --import tsx bench/detection-profile.ts pool N [R]   the hunt on two worker threads (FIREBREAK_BENCH_THREADS),
 *                                                             R rounds: wall, CPU, and the reading thread's busy time
 *   node --import tsx bench/detection-profile.ts oracle OUT   every (event, rule) match over varied events
 *   node --import tsx bench/detection-profile.ts detect R     detection alone: the regression events, parsed
 *                                                             beforehand, R rounds after 2R rounds of warm-up
 *   node --import tsx bench/detection-profile.ts twice N      the matcher on each event of the file, then again
 *                                                             at once on a fresh view of the same event: the
 *                                                             same work on warm CPU caches and predictors
 *   node --import tsx bench/detection-profile.ts ab DIR [R]   this tree's matcher against the matcher of another
 *                                                             checkout DIR (`git worktree add DIR REV`, with
 *                                                             node_modules linked), in one process, R rounds
 *                                                             alternating which goes first: steadier than
 *                                                             separate runs on a shared machine
 *
 * The event file is written once to $TMPDIR/firebreak-prof and reused. `hunt` under `node --cpu-prof` or
 * `FIREBREAK_CALLGRIND=1 valgrind --tool=callgrind --instr-atstart=no` profiles the hot path; `oracle` output compared before and after a change
 * shows the change kept behaviour (the regression events, their Winlogbeat and flat JSON forms, and
 * deterministic recombinations of their field values).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Detector } from '../src/detection/detector.js';
import type * as EngineModule from '../src/detection/engine.js';
import type * as EventModule from '../src/detection/event.js';
import type * as LoaderModule from '../src/hunt/rule-loader.js';
import { prepareEvent } from '../src/detection/event.js';
import type { RuleSet, RuleVariant } from '../src/detection/rule-set.js';
import { runHunt } from '../src/hunt/hunt.js';
import { readJsonDocuments } from '../src/hunt/json-reader.js';
import { loadMapping, loadRules } from '../src/hunt/rule-loader.js';
import { SIGMA, sampleEvents, writeEvents } from './detection.js';

type Obj = Record<string, unknown>;

async function load() {
  const mapping = await loadMapping();
  return loadRules(
    ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((f) => join(SIGMA, f)),
    mapping,
  );
}

async function eventFile(count: number): Promise<string> {
  const dir = join(tmpdir(), 'firebreak-prof');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `events-${count}.ndjson`);
  if (!existsSync(file)) await writeEvents(file, await sampleEvents(), count);
  return file;
}

const WARM = 5_000;
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

/** Deterministic pseudo-random numbers (xorshift). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function variants(samples: unknown[]): unknown[] {
  const out: unknown[] = [...samples];
  const evtx = samples.filter((s) => (s as { Event?: Obj }).Event?.['System'] !== undefined) as Array<{
    Event: Obj;
  }>;
  for (const s of evtx) {
    const system = s.Event['System'] as Obj;
    const unwrap = (v: unknown): unknown =>
      typeof v === 'object' && v !== null && '#text' in v ? (v as Obj)['#text'] : v;
    const data = (s.Event['EventData'] ?? {}) as Obj;
    // Winlogbeat form.
    out.push({
      winlog: {
        channel: unwrap(system['Channel']),
        event_id: unwrap(system['EventID']),
        computer_name: unwrap(system['Computer']),
        event_data: data,
      },
    });
    // Flat JSON form (unknown product).
    out.push({ ...data, EventID: unwrap(system['EventID']), Channel: unwrap(system['Channel']) });
  }
  // Recombinations: an event of one (channel, id) with field values borrowed from events of the same key.
  const next = random(42);
  for (let round = 0; round < 20; round++) {
    for (const s of evtx) {
      const key = JSON.stringify((s.Event['System'] as Obj)['Channel']);
      const peers = evtx.filter(
        (p) => JSON.stringify((p.Event['System'] as Obj)['Channel']) === key && p !== s,
      );
      const copy = structuredClone(s);
      const data = copy.Event['EventData'] as Obj | undefined;
      if (data === undefined || peers.length === 0) continue;
      for (const field of Object.keys(data)) {
        if (next() < 0.5) continue;
        const peer = peers[Math.floor(next() * peers.length)]!.Event['EventData'] as Obj | undefined;
        if (peer?.[field] !== undefined) data[field] = peer[field];
        else if (typeof data[field] === 'string' && next() < 0.3)
          data[field] = (data[field] as string).toUpperCase();
      }
      out.push(copy);
    }
  }
  return out;
}

/** With FIREBREAK_PROF_NO_TESTS=1, every rule test answers false: the cost of dispatch and prefilter alone. */
function withoutTests(set: RuleSet): RuleSet {
  if (process.env['FIREBREAK_PROF_NO_TESTS'] !== '1') return set;
  for (const rule of set.rules)
    (rule as unknown as { variants: RuleVariant[] }).variants = rule.variants.map((v) => ({
      ...v,
      test: () => false,
    }));
  return set;
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'baseline' || mode === 'hunt' || mode === 'empty') {
  const count = Number(arg ?? 100_000);
  const file = await eventFile(count);
  // A first file warms the JIT and builds the dispatch buckets, so the figures are the steady state.
  const warm = await eventFile(WARM);
  const set =
    mode === 'hunt'
      ? withoutTests((await load()).set)
      : mode === 'empty'
        ? { rules: [], correlations: [], filters: [] }
        : undefined;
  // Under `valgrind --tool=callgrind --instr-atstart=no`, count instructions of the second file only.
  const callgrind = process.env['FIREBREAK_CALLGRIND'] === '1';
  let t = 0;
  let cpu = process.cpuUsage();
  const begin = (): void => {
    if (callgrind) execFileSync('callgrind_control', ['-i', 'on', String(process.pid)]);
    t = performance.now();
    cpu = process.cpuUsage();
  };
  let n = 0;
  if (set === undefined) {
    for await (const r of readJsonDocuments(warm)) if (r.value !== null) n++;
    begin();
    for await (const r of readJsonDocuments(file)) if (r.value !== null) n++;
  } else {
    // The warm file's 5,000 events come first; the main file's first event starts the count.
    const process = Detector.prototype.process;
    let seen = 0;
    Detector.prototype.process = function (this: Detector, event) {
      if (seen++ === WARM) begin();
      return process.call(this, event);
    };
    const summary = await runHunt([warm, file], set, { onMatch: () => {} });
    n = summary.matches;
  }
  const used = process.cpuUsage(cpu);
  if (callgrind) execFileSync('callgrind_control', ['-i', 'off', String(process.pid)]);
  console.log(
    `${mode} ${count}: ${((performance.now() - t) / 1000).toFixed(2)} s wall, ${(cpuMs(used) / 1000).toFixed(2)} s CPU, ${n}`,
  );
} else if (mode === 'pool') {
  // The hunt on worker threads (as `npm run bench` runs it), R rounds after one of warm-up: wall and CPU
  // time of the process, and how busy this (the reading) thread was.
  const count = Number(arg ?? 200_000);
  const rounds = Number(process.argv[4] ?? 3);
  const file = await eventFile(count);
  const { set } = await load();
  const { HuntPool } = await import('../src/hunt/hunt-pool.js');
  const threads = Number(process.env['FIREBREAK_BENCH_THREADS'] ?? 2);
  const pool = await HuntPool.start(set, { threads });
  try {
    for (let r = 0; r <= rounds; r++) {
      const t = performance.now();
      const cpu = process.cpuUsage();
      const elu = performance.eventLoopUtilization();
      let n = 0;
      await runHunt([file], set, { pool, onMatch: () => n++ });
      const busy = performance.eventLoopUtilization(elu);
      console.log(
        `${r === 0 ? 'warm-up' : `round ${r}`}: ${((performance.now() - t) / 1000).toFixed(2)} s wall, ${(cpuMs(process.cpuUsage(cpu)) / 1000).toFixed(2)} s CPU, reading thread busy ${(busy.active / 1000).toFixed(2)} s, ${n} matches`,
      );
    }
  } finally {
    await pool.close();
  }
} else if (mode === 'detect') {
  // Detection without reading or parsing: under callgrind (FIREBREAK_CALLGRIND=1, --separate-threads=yes)
  // the main thread's count repeats within a fraction of a percent, so it shows small steps.
  const rounds = Number(arg ?? 30);
  const detector = new Detector((await load()).set);
  const samples = await sampleEvents();
  // Fresh objects per round (parsed, as the hunt's are), so that nothing cached on an event survives.
  const copies = Array.from({ length: 3 * rounds }, () =>
    samples.map((e) => JSON.parse(JSON.stringify(e)) as unknown),
  );
  let n = 0;
  const round = (k: number): void => {
    for (const e of copies[k]!) n += detector.process(prepareEvent(e)).length;
  };
  for (let k = 0; k < 2 * rounds; k++) round(k);
  const callgrind = process.env['FIREBREAK_CALLGRIND'] === '1';
  if (callgrind) execFileSync('callgrind_control', ['-i', 'on', String(process.pid)]);
  const cpu = process.cpuUsage();
  for (let k = 2 * rounds; k < 3 * rounds; k++) round(k);
  const used = process.cpuUsage(cpu);
  if (callgrind) execFileSync('callgrind_control', ['-i', 'off', String(process.pid)]);
  console.log(
    `detect: ${rounds * samples.length} events, ${(cpuMs(used) / 1000).toFixed(2)} s CPU, ${n} detections`,
  );
} else if (mode === 'twice') {
  // What touching cold data and code costs: each event matched once as the hunt does, then once more at
  // once through a fresh PreparedEvent (no per-event cache carried over: the same work, with the CPU's
  // caches and branch predictors warm). Wall time per event.
  const count = Number(arg ?? 200_000);
  const file = await eventFile(count);
  const warm = await eventFile(WARM);
  const matcher = new Detector((await load()).set).matcher;
  for await (const r of readJsonDocuments(warm)) matcher.match(prepareEvent(r.value));
  let first = 0;
  let again = 0;
  let n = 0;
  for await (const r of readJsonDocuments(file)) {
    const event = prepareEvent(r.value);
    const same = prepareEvent(r.value);
    const t0 = performance.now();
    matcher.match(event);
    const t1 = performance.now();
    matcher.match(same);
    first += t1 - t0;
    again += performance.now() - t1;
    n++;
  }
  const us = (ms: number): string => ((ms * 1000) / n).toFixed(2);
  console.log(`twice ${count}: first ${us(first)} us/event, again ${us(again)} us/event`);
} else if (mode === 'ab') {
  if (arg === undefined) throw new Error('ab: name the other checkout');
  const rounds = Number(process.argv[4] ?? 30);
  const PER = 5;
  /** A matcher built by the code of `root`: its own modules, imported by path. */
  const build = async (root: string): Promise<(raw: unknown) => number> => {
    const engine = (await import(join(root, 'src/detection/engine.ts'))) as typeof EngineModule;
    const event = (await import(join(root, 'src/detection/event.ts'))) as typeof EventModule;
    const loader = (await import(join(root, 'src/hunt/rule-loader.ts'))) as typeof LoaderModule;
    const mapping = await loader.loadMapping();
    const { set } = await loader.loadRules(
      ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((f) => join(SIGMA, f)),
      mapping,
    );
    const matcher = new engine.SigmaMatcher(set.rules);
    return (raw) => matcher.match(event.prepareEvent(raw)).length;
  };
  const texts = (await sampleEvents()).map((e) => JSON.stringify(e));
  const sides = { this: await build(join(import.meta.dirname, '..')), other: await build(arg) };
  const times: Record<keyof typeof sides, number[]> = { this: [], other: [] };
  const found: Record<keyof typeof sides, number> = { this: 0, other: 0 };
  for (const side of Object.values(sides)) for (const t of texts) side(JSON.parse(t));
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? (['this', 'other'] as const) : (['other', 'this'] as const)) {
      const events: unknown[] = [];
      for (let k = 0; k < PER; k++) for (const t of texts) events.push(JSON.parse(t));
      const t0 = performance.now();
      for (const e of events) found[name] += sides[name](e);
      times[name].push(((performance.now() - t0) * 1000) / events.length);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const won = times.this.filter((t, i) => t < times.other[i]!).length;
  console.log(
    `ab: match ${median(times.this).toFixed(2)} us/event here, ${median(times.other).toFixed(2)} in ${arg}; faster here in ${won} of ${rounds} rounds; ${found.this} / ${found.other} matches`,
  );
} else if (mode === 'oracle') {
  const loaded = await load();
  const detector = new Detector(loaded.set);
  const lines: string[] = [];
  const events = variants(await sampleEvents());
  events.forEach((raw, i) => {
    for (const d of detector.process(prepareEvent(raw))) lines.push(`${i}\t${d.kind}\t${d.rule.id}`);
  });
  for (const d of detector.flush()) lines.push(`end\t${d.kind}\t${d.rule.id}`);
  writeFileSync(arg ?? 'oracle.txt', `${lines.join('\n')}\n`);
  console.log(`oracle: ${events.length} events, ${lines.length} detections`);
} else {
  console.error(
    'usage: detection-profile.ts hunt|baseline|empty|twice N | detect ROUNDS | oracle OUT | ab DIR [ROUNDS]',
  );
  process.exit(2);
}
