import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { uuidv7 } from 'uuidv7';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NormalisedEvent, ReceivedEvent } from '../../src/ingest/event-record.js';
import { IngestPipeline, type DetectionStage, type PipelineItem } from '../../src/ingest/pipeline.js';
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

/** Counts events per user; its state is a JSON object saved with a position, like the real detector. */
class CountingStage implements DetectionStage {
  counts: Record<string, number> = {};
  processed = 0;
  warmed = 0;
  failNext = false;
  saved: { position: number; counts: Record<string, number> } | null = null;

  restore(): Promise<number> {
    this.counts = { ...(this.saved?.counts ?? {}) };
    return Promise.resolve(this.saved?.position ?? 0);
  }
  warm(items: readonly PipelineItem[]): Promise<void> {
    for (const item of items) this.count(item);
    this.warmed += items.length;
    return Promise.resolve();
  }
  detect(items: readonly PipelineItem[]): Promise<number> {
    for (const item of items) this.count(item);
    return Promise.resolve(items.length);
  }
  record(_unit: UnitOfWork, batch: unknown): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('recording detections failed mid-batch'));
    }
    this.processed += batch as number;
    return Promise.resolve();
  }
  checkpoint(_unit: UnitOfWork, position: number): Promise<void> {
    this.saved = { position, counts: { ...this.counts } };
    return Promise.resolve();
  }
  private count(item: PipelineItem): void {
    const user = String(item.normalised.fields['user.name'] ?? '-');
    this.counts[user] = (this.counts[user] ?? 0) + 1;
  }
}

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
        const pipeline = new IngestPipeline(env.context, spool, { normalise, batchSize: 100 });
        pipeline.start();
        await pipeline.drained(receipt.lastPosition);
        await pipeline.stop();
        expect(pipeline.stats()).toMatchObject({ processed: 250, batches: 3 });
        expect(await readCheckpoint(env.context.database.db, 'main')).toBe(receipt.lastPosition);
        const alice = await searchEvents(env.context, env.viewer, { q: 'user.name:ALICE', limit: 1000 });
        expect(alice.items).toHaveLength(125);
        expect(alice.items[0]).toMatchObject({ parser: 'test', source: { kind: 'http', name: 'test' } });

        // A new consumer on the same spool and database resumes after the checkpoint: nothing twice.
        const again = new IngestPipeline(env.context, spool, { normalise });
        again.start();
        const more = await spool.append([received('later user=carol')]);
        await again.drained(more.lastPosition);
        await again.stop();
        expect(again.stats().processed).toBe(1);
        const all = await searchEvents(env.context, env.viewer, { limit: 1000 });
        expect(all.items).toHaveLength(251);
      });

      it('after a failed batch, starts over from the checkpoint and rebuilds detection state without doubling it', async () => {
        const stage = new CountingStage();
        const pipeline = new IngestPipeline(env.context, spool, {
          normalise,
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
        const stage = new CountingStage();
        // State is saved only on stop: a crash before it leaves state behind the event checkpoint.
        const pipeline = new IngestPipeline(env.context, spool, {
          normalise,
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

        const restarted = new IngestPipeline(env.context, spool, { normalise, detection: stage });
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
