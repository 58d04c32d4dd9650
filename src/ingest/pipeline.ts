import {
  insertEvents,
  recordSubmissions,
  readCheckpoint,
  recordEventSightings,
  writeCheckpoint,
} from '../storage/event-repository.js';
import { inTransaction, type ServiceContext, type UnitOfWork } from '../services/context.js';
import type {
  BatchRequest,
  BatchResult,
  DetectionDrops,
  DetectionInputs,
  OrgDetectionRecords,
  SpooledText,
} from './batch-core.js';
import type { BatchProcessor } from './batch-processor.js';

/** What the pipeline needs from the spool: ordered reads after a position, and releasing the done. */
export interface SpoolSource {
  readTexts(after: number, max: number): Promise<readonly SpooledText[]>;
  /** Resolves when a record after `after` may be there (or the signal aborts). */
  waitForData(after: number, signal: AbortSignal): Promise<void>;
  /** Everything up to `upTo` is durably processed; the spool may delete it. */
  release(upTo: number): void | Promise<void>;
}

/**
 * The database side of detection. The detectors themselves run in the batch processor (a worker
 * thread); this side tells it each organisation's rules, saved state and suppressions when they
 * change, and stores what it found: alerts, and its state with a spool position. After a restart the
 * pipeline replays the events between that position and its own checkpoint in `warm` mode (state
 * only: their alerts are already stored), then carries on.
 */
export interface DetectionStage {
  /** Forgets what the processor was told; answers the spool position the saved state reflects (0: none). */
  restore(): Promise<number>;
  /** What the processor must hear with the next batch (rules, state, suppressions that changed). */
  inputs(): Promise<DetectionInputs>;
  /** Organisations the processor has no rules for: their setups go with the next `inputs`. */
  addOrganisations(orgIds: readonly string[]): void;
  /** Records what a batch found (alerts) in the pipeline's unit of work. */
  record(unit: UnitOfWork, detections: readonly OrgDetectionRecords[]): Promise<void>;
  /** Saves the exported states as of `position` in the unit of work. */
  checkpoint(
    unit: UnitOfWork,
    position: number,
    states: ReadonlyArray<{ readonly orgId: string; readonly json: string }>,
  ): Promise<void>;
}

export interface PipelineOptions {
  readonly processor: BatchProcessor;
  readonly detection?: DetectionStage | undefined;
  /** Names the checkpoint row; one consumer per spool. */
  readonly consumer?: string;
  /**
   * Events per batch (default 1000). Smaller batches leave less for the worker's garbage collector to
   * copy while a batch is alive: 1000 took about 6% less CPU in all than 2000 on the syslog benchmark,
   * at one more commit per 2000 events.
   */
  readonly batchSize?: number;
  /** How often detection state is saved (ms of wall time). */
  readonly stateEveryMs?: number;
  /**
   * At least how often a batch's commit is flushed to disk (ms of wall time); see commit for the
   * others that are.
   */
  readonly flushEveryMs?: number;
  readonly onError?: (error: unknown) => void;
}

export interface PipelineStats {
  readonly processed: number;
  readonly batches: number;
  readonly position: number;
  readonly failures: number;
  /** What detection dropped to stay bounded, counted since this pipeline started. */
  readonly detectionDrops: DetectionDrops;
}

type DropCounts = { -readonly [K in keyof DetectionDrops]: number };

interface InFlight {
  readonly records: readonly SpooledText[];
  readonly exportState: boolean;
  readonly last: number;
  readonly result: Promise<BatchResult>;
}

/** Batches at the processor at once: one being processed while the one before is stored. */
const IN_FLIGHT = 2;
/** A processor that refuses this many times in a row without progress is broken. */
const MAX_REFUSALS = 3;

/**
 * The consumer behind the spool: reads events in order, has them normalised and run through detection
 * by the batch processor (a worker thread), stores the rows, sightings and alerts, and commits its
 * spool position in the same transaction as those writes. While one batch is stored the next is
 * processed. A crash at any point replays from the committed position, and the writes are idempotent
 * (event ids, and the position itself), so every spooled event is processed exactly once.
 */
export class IngestPipeline {
  private readonly consumer: string;
  private readonly batchSize: number;
  private readonly stateEveryMs: number;
  private readonly flushEveryMs: number;
  private abort = new AbortController();
  private running: Promise<void> | null = null;
  private position = 0;
  private savedState = 0;
  /** The last position committed with a flush to disk, and when (see commit). */
  private flushedPosition = 0;
  private flushedAt = 0;
  /** The last position the processor's detection state has seen (ahead of `position` while batches are in flight). */
  private submitted = 0;
  private processed = 0;
  private batches = 0;
  private failures = 0;
  private readonly drops: DropCounts = {
    lateEvents: 0,
    correlationGroupsEvicted: 0,
    correlationEventsDropped: 0,
    anomalyEntitiesEvicted: 0,
  };
  /** The processor's counts at the last batch (they restart when a detector is rebuilt). */
  private lastDrops: DetectionDrops = { ...this.drops };
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly context: ServiceContext,
    private readonly spool: SpoolSource,
    private readonly options: PipelineOptions,
  ) {
    this.consumer = options.consumer ?? 'main';
    this.batchSize = options.batchSize ?? 1000;
    this.stateEveryMs = options.stateEveryMs ?? 10_000;
    this.flushEveryMs = options.flushEveryMs ?? 1_000;
  }

  start(): void {
    if (this.running) return;
    this.abort = new AbortController();
    this.running = this.run(this.abort.signal);
  }

  /**
   * Stops after storing the batches in hand and saves detection state, so a restart replays nothing.
   * The processor stays open (its owner closes it).
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.abort.abort();
    await this.running;
    this.running = null;
    const detection = this.options.detection;
    if (detection && this.submitted === this.position && this.position > this.savedState) {
      const position = this.position;
      const result = await this.options.processor.process({
        records: [],
        mode: 'live',
        detection: null,
        exportState: true,
      });
      if (!result.refused && result.states) {
        const states = result.states;
        await inTransaction(this.context, (unit) => detection.checkpoint(unit, position, states));
        this.savedState = position;
      }
    }
  }

  stats(): PipelineStats {
    return {
      processed: this.processed,
      batches: this.batches,
      position: this.position,
      failures: this.failures,
      detectionDrops: { ...this.drops },
    };
  }

  /** Resolves once everything the spool holds up to now has been processed (for tests and shutdown). */
  async drained(target: number): Promise<void> {
    while (this.position < target && this.running) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  private notifyProgress(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.consume(signal);
      } catch (error) {
        if (signal.aborted) break;
        this.failures += 1;
        this.options.onError?.(error);
        // Start over from the committed checkpoint (state included) after a pause.
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * this.failures)));
      }
    }
    this.notifyProgress();
  }

  /** Sends a batch; the result is awaited in order by the caller (a rejection is handled there). */
  private async submit(
    records: readonly SpooledText[],
    mode: BatchRequest['mode'],
    exportState: boolean,
    resume: boolean,
  ): Promise<InFlight> {
    const detection = this.options.detection;
    const request: BatchRequest = {
      records,
      mode,
      detection: detection ? await detection.inputs() : null,
      exportState,
      ...(resume ? { resume } : {}),
    };
    const result = this.options.processor.process(request);
    result.catch(() => undefined); // awaited later; avoid an unhandled rejection meanwhile
    const last = records.at(-1)!.position;
    this.submitted = last;
    return { records, exportState, last, result };
  }

  /**
   * The processor refused the first batch in `queue` (it lacked some organisation's rules) and, to
   * keep the order, every batch sent after it: tell detection which organisations to set up and send
   * them all again.
   */
  private async resend(refused: BatchResult, queue: InFlight[]): Promise<InFlight[]> {
    const missing = new Set(refused.missing);
    for (const batch of queue.slice(1)) {
      const later = await batch.result.catch(() => null);
      for (const orgId of later?.missing ?? []) missing.add(orgId);
    }
    this.options.detection?.addOrganisations([...missing]);
    const again: InFlight[] = [];
    for (let i = 0; i < queue.length; i++) {
      const batch = queue[i]!;
      again.push(await this.submit(batch.records, 'live', batch.exportState, i === 0));
    }
    return again;
  }

  private async consume(signal: AbortSignal): Promise<void> {
    const { processor, detection } = this.options;
    const committed = (await readCheckpoint(this.context.database.db, this.consumer)) ?? 0;
    await processor.reset();
    const statePosition = detection ? Math.min(await detection.restore(), committed) : committed;
    this.position = committed;
    this.submitted = statePosition;
    await this.spool.release(statePosition);

    // Rebuild detection state from the events it had not yet saved.
    let replay = statePosition;
    while (detection && replay < committed && !signal.aborted) {
      const records = (await this.spool.readTexts(replay, this.batchSize)).filter(
        (r) => r.position <= committed,
      );
      if (records.length === 0) break;
      let batch = await this.submit(records, 'warm', false, false);
      for (let refusals = 0; (await batch.result).refused; refusals++) {
        if (refusals >= MAX_REFUSALS) throw new Error('the batch processor keeps refusing a batch');
        detection.addOrganisations((await batch.result).missing);
        batch = await this.submit(records, 'warm', false, true);
      }
      replay = batch.last;
    }
    this.submitted = committed;

    let lastState = Date.now();
    this.savedState = statePosition;
    let readAfter = committed;
    let queue: InFlight[] = [];
    let refusals = 0;
    for (;;) {
      // Keep the processor busy: the next batch is parsed and detected while this one is stored.
      while (!signal.aborted && queue.length < IN_FLIGHT) {
        const records = await this.spool.readTexts(readAfter, this.batchSize);
        if (records.length === 0) break;
        const exportState = detection !== undefined && Date.now() - lastState >= this.stateEveryMs;
        if (exportState) lastState = Date.now();
        queue.push(await this.submit(records, 'live', exportState, false));
        readAfter = records.at(-1)!.position;
      }
      if (queue.length === 0) {
        if (signal.aborted) return;
        this.notifyProgress();
        await this.spool.waitForData(readAfter, signal);
        continue;
      }
      const head = queue[0]!;
      const result = await head.result;
      if (result.refused) {
        if (++refusals > MAX_REFUSALS) throw new Error('the batch processor keeps refusing a batch');
        queue = await this.resend(result, queue);
        continue;
      }
      refusals = 0;
      queue.shift();
      await this.commit(head, result);
    }
  }

  /** Adds what the processor dropped since the last batch; a count that went down restarted. */
  private countDrops(now: DetectionDrops): void {
    for (const key of Object.keys(this.drops) as Array<keyof DetectionDrops>) {
      const before = this.lastDrops[key];
      this.drops[key] += now[key] >= before ? now[key] - before : now[key];
    }
    this.lastDrops = now;
  }

  private async commit(batch: InFlight, result: BatchResult): Promise<void> {
    const detection = this.options.detection;
    for (const message of result.normaliseErrors) this.options.onError?.(new Error(`normaliser: ${message}`));
    if (result.undecodable > 0) {
      this.options.onError?.(new Error(`${result.undecodable} spooled records could not be decoded`));
    }
    const states = result.states;
    // Everything a batch writes can be rebuilt from the spool, which flushed it before acknowledging
    // it; so only some commits wait for the disk: those that save detection state (the spool is
    // released only up to there), those that record detections (an alert someone may already have
    // seen never vanishes), and one a second. The others survive a crash of Firebreak; on power loss
    // the database comes back at its last flushed commit and the pipeline replays from there. A
    // flush per batch cost the thread that owns the database about 3 µs per event of waiting.
    const flush =
      states !== null || result.detections.length > 0 || Date.now() - this.flushedAt >= this.flushEveryMs;
    await inTransaction(
      this.context,
      async (unit) => {
        await insertEvents(unit.tx, result.rows, this.context.database.prepareNative);
        await recordEventSightings(unit.tx, result.sightings, this.context.database.prepareNative);
        await recordSubmissions(unit.tx, result.submissions);
        if (detection) {
          await detection.record(unit, result.detections);
          if (states) await detection.checkpoint(unit, batch.last, states);
        }
        await writeCheckpoint(unit.tx, this.consumer, batch.last, unit.now);
      },
      { durable: flush },
    );
    if (flush) {
      this.flushedPosition = batch.last;
      this.flushedAt = Date.now();
    }
    this.countDrops(result.drops);
    this.position = batch.last;
    this.processed += result.events;
    this.batches += 1;
    if (states) this.savedState = batch.last;
    // State is saved only in flushed commits, so savedState is flushed too.
    await this.spool.release(detection ? this.savedState : this.flushedPosition);
    this.notifyProgress();
  }
}
