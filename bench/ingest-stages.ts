/**
 * Where the time of one ingested syslog event goes, stage by stage, on the same lines as the
 * end-to-end ingest benchmark: spool append and read-back, normalisation, detection with the
 * built-in rules, row building, and the SQLite insert (one transaction per batch, as the pipeline
 * commits). Each figure is µs per event of this process's CPU, beside a baseline from the same run:
 * splitting the same bytes into lines.
 *
 *   npm run bench -- ingest-stages     (FIREBREAK_BENCH_STAGE_EVENTS overrides the event count)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { uuidv7 } from 'uuidv7';
import { Detector } from '../src/detection/detector.js';
import { prepareEvent } from '../src/detection/event.js';
import { loadMapping, loadRules } from '../src/hunt/rule-loader.js';
import { detectionDocument } from '../src/ingest/detection-document.js';
import type { ReceivedEvent } from '../src/ingest/event-record.js';
import { normalise } from '../src/ingest/normalise/index.js';
import { eventRow, ObservableMemo, sightingsOf, type PipelineItem } from '../src/ingest/batch-core.js';
import { decodeSpooledEvent } from '../src/ingest/spool/event-codec.js';
import { openFileSpool } from '../src/ingest/spool/index.js';
import { migrateToLatest, openDatabase } from '../src/storage/database.js';
import { insertEvents, recordEventSightings } from '../src/storage/event-repository.js';
import { syslogLine } from './ingest.js';

const EVENTS = Number(process.env.FIREBREAK_BENCH_STAGE_EVENTS ?? 100_000);
const BATCH = 1000; // the pipeline's default
const BUILTIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../rules/builtin');

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function timed<T>(work: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const start = cpuMs();
  const value = await work();
  return { value, ms: cpuMs() - start };
}

export async function runIngestStagesBench(): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const text = Array.from({ length: EVENTS }, (_, i) => syslogLine(i)).join('\n');
  const perEvent = (ms: number) => `${((ms * 1000) / EVENTS).toFixed(2).padStart(7)} µs/event`;

  const base = await timed(() => text.split('\n'));
  const lines = base.value;
  const orgId = uuidv7();
  const receivedAt = new Date().toISOString();
  const events: ReceivedEvent[] = lines.map((line) => ({
    id: uuidv7(),
    orgId,
    receivedAt,
    source: { kind: 'syslog', name: 'tcp', peer: '127.0.0.1' },
    format: 'syslog',
    raw: line,
  }));

  const dir = await mkdtemp(path.join(os.tmpdir(), 'firebreak-bench-stages-'));
  try {
    const spool = await openFileSpool({ directory: path.join(dir, 'spool') });
    const append = await timed(async () => {
      for (let i = 0; i < EVENTS; i += 4096) await spool.append(events.slice(i, i + 4096));
    });
    // As the pipeline reads: record texts on the main thread (from the file here: the appends above
    // ran ahead of the reads, beyond what the spool keeps in memory), decoded in the worker.
    const texts: string[] = [];
    const read = await timed(async () => {
      let after = 0;
      while (texts.length < EVENTS) {
        const got = await spool.readTexts(after, BATCH);
        for (const record of got) texts.push(record.text);
        after = got.at(-1)!.position;
      }
    });
    const decode = await timed(() => texts.map(decodeSpooledEvent));
    texts.length = 0;
    await spool.close();

    const rules = await loadRules([BUILTIN], await loadMapping());
    // As the server opens it: the write-ahead log is checkpointed from a background thread.
    const database = openDatabase({ dataDir: path.join(dir, 'db'), backgroundCheckpoints: true });
    await migrateToLatest(database);
    await database.db
      .insertInto('organizations')
      .values({ id: orgId, slug: 'bench', name: 'bench', created_at: receivedAt })
      .execute();

    // As the pipeline works: batch by batch, each batch's objects dropped after it (holding all
    // events' objects at once would make old-generation GC land in whichever stage runs then).
    const cpu = { norm: 0, detect: 0, rows: 0, sightings: 0, insert: 0, sight: 0 };
    // As BatchCore keeps it: observable normalisation memoised across batches.
    const observableMemo = new ObservableMemo();
    let detections = 0;
    const runBatches = async (detector: Detector, from: number, to: number, measure: boolean) => {
      for (let i = from; i < to; i += BATCH) {
        const batch = events.slice(i, Math.min(to, i + BATCH));
        const norm = await timed(() => batch.map((event) => normalise(event)));
        const items: PipelineItem[] = batch.map((event, k) => ({
          position: i + k + 1,
          event,
          normalised: norm.value[k]!,
        }));
        const detect = await timed(() => {
          let n = 0;
          for (const item of items)
            n += detector.process(prepareEvent(detectionDocument(item.event, item.normalised))).length;
          return n;
        });
        const rows = await timed(() => items.map(eventRow));
        const sightings = await timed(() => sightingsOf(items, observableMemo));
        const insert = await timed(() =>
          database.write((tx) => insertEvents(tx, rows.value, database.prepareNative)),
        );
        const sight = await timed(() =>
          database.write((tx) => recordEventSightings(tx, sightings.value, database.prepareNative)),
        );
        if (!measure) continue;
        detections += detect.value;
        cpu.norm += norm.ms;
        cpu.detect += detect.ms;
        cpu.rows += rows.ms;
        cpu.sightings += sightings.ms;
        cpu.insert += insert.ms;
        cpu.sight += sight.ms;
      }
    };
    // Warm the JIT and the dispatch buckets on the first 10,000 events, then measure all of them
    // with a fresh detector, under new ids (the same ids would be skipped as already stored).
    await runBatches(new Detector(rules.set), 0, Math.min(EVENTS, 10_000), false);
    for (const event of events) (event as { id: string }).id = uuidv7();
    await runBatches(new Detector(rules.set), 0, EVENTS, true);
    await database.close();

    out(
      `events: ${EVENTS.toLocaleString('en')} syslog lines (the ingest benchmark's mix); CPU time per event`,
    );
    out(`baseline: split into lines      ${perEvent(base.ms)}`);
    out(`spool append (fsync per 4096)   ${perEvent(append.ms)}`);
    out(`spool read-back (record texts)  ${perEvent(read.ms)}`);
    out(`decode records (worker)         ${perEvent(decode.ms)}`);
    out(`normalise                       ${perEvent(cpu.norm)}`);
    out(
      `detect (${rules.set.rules.length} built-in rules)      ${perEvent(cpu.detect)}  (${detections} detections)`,
    );
    out(`event rows (stored JSON)        ${perEvent(cpu.rows)}`);
    out(`observable sightings per batch  ${perEvent(cpu.sightings)}`);
    out(`SQLite insert, ${BATCH} per commit  ${perEvent(cpu.insert)}`);
    out(`SQLite sightings upsert         ${perEvent(cpu.sight)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
