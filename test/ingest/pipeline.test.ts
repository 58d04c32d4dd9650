import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { uuidv7 } from 'uuidv7';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NormalisedEvent, ReceivedEvent } from '../../src/ingest/event-record.js';
import type {
  BatchRequest,
  BatchResult,
  DetectionInputs,
  OrgDetectionRecords,
} from '../../src/ingest/batch-core.js';
import { InlineBatchProcessor, type BatchProcessor } from '../../src/ingest/batch-processor.js';
import { IngestPipeline, type DetectionStage } from '../../src/ingest/pipeline.js';
import type { DetectionRecord } from '../../src/services/detections.js';
import { openFileSpool, type FileSpool } from '../../src/ingest/spool/index.js';
import type { UnitOfWork } from '../../src/services/context.js';
import { searchEvents } from '../../src/services/events.js';
import { readCheckpoint } from '../../src/storage/event-repository.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createTestEnv, type TestEnv } from '../support/harness.js';

announceSkips();

/** A stand-in normaliser: the pipeline's contract, not the parsers, is under test here. */
function normalise(event: ReceivedEvent): NormalisedEvent {
  const text = typeof event.raw === 'string' ? event.raw : JSON.stringify(event.raw);
  const user = /user=(\w+)/.exec(text)?.[1];
  return {
    timestamp: event.receivedAt,
    parser: 'test',
    fields: { '@timestamp': event.receivedAt, message: text, ...(user ? { 'user.name': user } : {}) },
    observables: [],
  };
}

/**
 * A stand-in detection, both sides of it: counts events per user in the processor (its state a JSON
 * object saved with a position, like the real detector's), one "detection" per event recorded.
 */
class CountingDetection implements DetectionStage, BatchProcessor {
  counts: Record<string, number> = {};
  processed = 0;
  warmed = 0;
  failNext = false;
  saved: { position: number; counts: Record<string, number> } | null = null;
  private readonly rows = new InlineBatchProcessor({ normalise, detect: false });

  // The processor side
  async process(request: BatchRequest): Promise<BatchResult> {
    const result = await this.rows.process(request);
    for (const record of request.records) {
      const user = String(normalise(JSON.parse(record.text) as ReceivedEvent).fields['user.name'] ?? '-');
      this.counts[user] = (this.counts[user] ?? 0) + 1;
      if (request.mode === 'warm') this.warmed += 1;
    }
    const records = request.mode === 'live' ? request.records.map(() => FAKE_RECORD) : [];
    return {
      ...result,
      detections: records.length ? [{ orgId: 'test', records }] : [],
      states: request.exportState ? [{ orgId: 'test', json: JSON.stringify(this.counts) }] : null,
    };
  }
  reset(): Promise<void> {
    this.counts = {};
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }

  // The database side
  restore(): Promise<number> {
    this.counts = { ...(this.saved?.counts ?? {}) };
    return Promise.resolve(this.saved?.position ?? 0);
  }
  inputs(): Promise<DetectionInputs> {
    return Promise.resolve({ setups: [], suppressions: {} });
  }
  addOrganisations(): void {}
  record(_unit: UnitOfWork, detections: readonly OrgDetectionRecords[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('recording detections failed mid-batch'));
    }
    for (const d of detections) this.processed += d.records.length;
    return Promise.resolve();
  }
  checkpoint(
    _unit: UnitOfWork,
    position: number,
    states: ReadonlyArray<{ orgId: string; json: string }>,
  ): Promise<void> {
    this.saved = { position, counts: JSON.parse(states[0]!.json) as Record<string, number> };
    return Promise.resolve();
  }
}

const FAKE_RECORD: DetectionRecord = {
  rule: { id: 'counting', title: 'counting', level: 'low' },
  suppressionId: null,
  entity: null,
  observables: [],
  timestamp: null,
  payload: null,
};

for (const engine of ENGINES) {
  describe.skipIf(engine.skipReason !== null)(
    engine.skipReason ?? `ingest pipeline on ${engine.name}`,
    () => {
      let env: TestEnv;
      let dir: string;
      let spool: FileSpool;
      const received = (raw: string): ReceivedEvent => ({
        id: uuidv7(),
        orgId: env.orgId,
        receivedAt: env.clock.now().toISOString(),
        source: { kind: 'http', name: 'test' },
        format: 'auto',
        raw,
      });

      beforeEach(async () => {
        env = await createTestEnv(engine);
        dir = await mkdtemp(path.join(os.tmpdir(), 'firebreak-pipeline-'));
        spool = await openFileSpool({ directory: dir });
      });
      afterEach(async () => {
        await spool.close();
        await env.close();
        await rm(dir, { recursive: true, force: true });
      });

      it('stores every spooled event once, searchable, and commits its position', async () => {
        const receipt = await spool.append(
          Array.from({ length: 250 }, (_, i) => received(`login user=${i % 2 ? 'alice' : 'bob'} n=${i}`)),
        );
        const pipeline = new IngestPipeline(env.context, spool, {
          processor: new InlineBatchProcessor({ normalise }),
          batchSize: 100,
        });
        pipeline.start();
        await pipeline.drained(receipt.lastPosition);
        await pipeline.stop();
        expect(pipeline.stats()).toMatchObject({ processed: 250, batches: 3 });
        expect(await readCheckpoint(env.context.database.db, 'main')).toBe(receipt.lastPosition);
        const alice = await searchEvents(env.context, env.viewer, { q: 'user.name:ALICE', limit: 1000 });
        expect(alice.items).toHaveLength(125);
        expect(alice.items[0]).toMatchObject({ parser: 'test', source: { kind: 'http', name: 'test' } });

        // A new consumer on the same spool and database resumes after the checkpoint: nothing twice.
        const again = new IngestPipeline(env.context, spool, {
          processor: new InlineBatchProcessor({ normalise }),
        });
        again.start();
        const more = await spool.append([received('later user=carol')]);
        await again.drained(more.lastPosition);
        await again.stop();
        expect(again.stats().processed).toBe(1);
        const all = await searchEvents(env.context, env.viewer, { limit: 1000 });
        expect(all.items).toHaveLength(251);
      });

      it('flushes a commit to disk at least once a second and releases the spool only up to a flushed one', async () => {
        const flushes: boolean[] = [];
        const database = env.context.database;
        const context = {
          ...env.context,
          database: {
            ...database,
            write: <T>(work: Parameters<typeof database.write<T>>[0], options?: { durable?: boolean }) => {
              flushes.push(options?.durable ?? true);
              return database.write(work, options);
            },
          },
        };
        const receipt = await spool.append(Array.from({ length: 250 }, (_, i) => received(`n=${i}`)));
        const hourly = new IngestPipeline(context, spool, {
          processor: new InlineBatchProcessor({ normalise, detect: false }),
          batchSize: 100,
          flushEveryMs: 3_600_000,
        });
        hourly.start();
        await hourly.drained(receipt.lastPosition);
        await hourly.stop();
        // The first batch is flushed, the next two (within the hour) are not.
        expect(flushes).toEqual([true, false, false]);
        expect(await readCheckpoint(database.db, 'main')).toBe(250);
        // A power loss could take the database back to position 100: the spool keeps what follows.
        expect(spool.stats().releasedPosition).toBe(100);

        flushes.length = 0;
        const more = await spool.append(Array.from({ length: 150 }, (_, i) => received(`m=${i}`)));
        const always = new IngestPipeline(context, spool, {
          processor: new InlineBatchProcessor({ normalise, detect: false }),
          batchSize: 100,
          flushEveryMs: 0,
        });
        always.start();
        await always.drained(more.lastPosition);
        await always.stop();
        expect(flushes).toEqual([true, true]);
        expect(spool.stats().releasedPosition).toBe(more.lastPosition);
      });

      it('after a failed batch, starts over from the checkpoint and rebuilds detection state without doubling it', async () => {
        const stage = new CountingDetection();
        const pipeline = new IngestPipeline(env.context, spool, {
          processor: stage,
          detection: stage,
          batchSize: 10,
          stateEveryMs: 0,
        });
        pipeline.start();
        const first = await spool.append(Array.from({ length: 10 }, () => received('user=alice')));
        await pipeline.drained(first.lastPosition);
        stage.failNext = true;
        const second = await spool.append(Array.from({ length: 10 }, () => received('user=alice')));
        await pipeline.drained(second.lastPosition);
        await pipeline.stop();
        expect(pipeline.stats().failures).toBe(1);
        // The failed attempt counted 10 in memory; the restart restored the saved state and recounted once.
        expect(stage.counts).toEqual({ alice: 20 });
        expect(stage.processed).toBe(20);
        const stored = await searchEvents(env.context, env.viewer, { limit: 1000 });
        expect(stored.items).toHaveLength(20);
      });

      it('replays events the saved detection state had not seen through warm, then carries on', async () => {
        const stage = new CountingDetection();
        // State is saved only on stop: a crash before it leaves state behind the event checkpoint.
        const pipeline = new IngestPipeline(env.context, spool, {
          processor: stage,
          detection: stage,
          stateEveryMs: 3_600_000,
        });
        pipeline.start();
        const batch = await spool.append(Array.from({ length: 30 }, () => received('user=bob')));
        await pipeline.drained(batch.lastPosition);
        // Simulate a crash: drop the in-memory state without saving it.
        stage.saved = { position: 0, counts: {} };
        (pipeline as unknown as { abort: AbortController }).abort.abort();
        await (pipeline as unknown as { running: Promise<void> }).running;

        const restarted = new IngestPipeline(env.context, spool, {
          processor: stage,
          detection: stage,
        });
        restarted.start();
        const next = await spool.append([received('user=bob')]);
        await restarted.drained(next.lastPosition);
        await restarted.stop();
        expect(stage.warmed).toBe(30);
        expect(stage.counts).toEqual({ bob: 31 });
        expect(restarted.stats().processed).toBe(1);
        // Released only up to what the saved state covers, so the spool could replay it.
        expect(stage.saved?.position).toBe(next.lastPosition);
      });
    },
  );
}
