import type { EventTable } from '../storage/schema.js';
import { normaliseObservable } from '../core/observable.js';
import {
  insertEvents,
  readCheckpoint,
  recordEventSightings,
  writeCheckpoint,
  type EventSightingBatch,
} from '../storage/event-repository.js';
import { inTransaction, type ServiceContext, type UnitOfWork } from '../services/context.js';
import type { NormalisedEvent, ReceivedEvent } from './event-record.js';

/** What the pipeline needs from the spool: ordered reads after a position, and releasing the done. */
export interface SpoolSource {
  read(after: number, max: number): Promise<ReadonlyArray<{ position: number; event: ReceivedEvent }>>;
  /** Resolves when a record after `after` may be there (or the signal aborts). */
  waitForData(after: number, signal: AbortSignal): Promise<void>;
  /** Everything up to `upTo` is durably processed; the spool may delete it. */
  release(upTo: number): void | Promise<void>;
}

export interface PipelineItem {
  readonly position: number;
  readonly event: ReceivedEvent;
  readonly normalised: NormalisedEvent;
}

/**
 * Detection as a pipeline stage. Its state (correlations, baselines) is checkpointed with a spool
 * position; after a restart the pipeline replays the events between that position and its own
 * checkpoint through `warm` (state only: their alerts are already stored), then carries on.
 */
export interface DetectionStage {
  /** Loads saved state; answers the spool position it reflects (0 when none). */
  restore(): Promise<number>;
  /** Feeds already-processed events to rebuild state, producing nothing. */
  warm(items: readonly PipelineItem[]): Promise<void>;
  /**
   * Runs detection on new events, outside any transaction (it may read rules and saved state; on
   * SQLite a read from inside the write transaction would wait for itself).
   */
  detect(items: readonly PipelineItem[]): Promise<DetectionBatch>;
  /** Records what `detect` found (alerts) in the pipeline's unit of work. */
  record(unit: UnitOfWork, batch: DetectionBatch): Promise<void>;
  /** Saves the state as of `position` in the unit of work. */
  checkpoint(unit: UnitOfWork, position: number): Promise<void>;
}

/** What a detection stage found in one batch, opaque to the pipeline. */
export type DetectionBatch = unknown;

export interface PipelineOptions {
  readonly normalise: (event: ReceivedEvent) => NormalisedEvent;
  readonly detection?: DetectionStage | undefined;
  /** Names the checkpoint row; one consumer per spool. */
  readonly consumer?: string;
  readonly batchSize?: number;
  /** How often detection state is saved (ms of wall time). */
  readonly stateEveryMs?: number;
  readonly onError?: (error: unknown) => void;
}

export interface PipelineStats {
  readonly processed: number;
  readonly batches: number;
  readonly position: number;
  readonly failures: number;
}

function fallback(event: ReceivedEvent): NormalisedEvent {
  const message = typeof event.raw === 'string' ? event.raw : undefined;
  return {
    timestamp: event.receivedAt,
    parser: 'raw',
    fields: { '@timestamp': event.receivedAt, ...(message !== undefined ? { message } : {}) },
    observables: [],
  };
}

/** Event times are compared as text in storage: always the same ISO form (`2026-11-27T04:00:00.000Z`). */
function isoOrReceived(timestamp: string, receivedAt: string): string {
  if (
    timestamp.length === 24 &&
    timestamp.charCodeAt(23) === 90 /* Z */ &&
    timestamp.charCodeAt(10) === 84 /* T */
  ) {
    return timestamp;
  }
  const ms = Date.parse(timestamp);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : receivedAt;
}

export function eventRow(item: PipelineItem): EventTable {
  const { event, normalised } = item;
  return {
    id: event.id,
    org_id: event.orgId,
    received_at: event.receivedAt,
    timestamp: isoOrReceived(normalised.timestamp, event.receivedAt),
    source_kind: event.source.kind,
    source_name: event.source.name ?? null,
    source_peer: event.source.peer ?? null,
    format: event.format,
    parser: normalised.parser,
    // The message is searched through the raw text; the column stays for a future full-text index.
    message: null,
    fields: JSON.stringify(normalised.fields),
    raw: typeof event.raw === 'string' ? event.raw : JSON.stringify(event.raw),
    raw_is_json: typeof event.raw === 'string' ? 0 : 1,
  };
}

/**
 * The observables of a batch, one entry per organisation, type and normalised value: the store is
 * written once per value per batch, not once per event. Values that do not normalise are skipped.
 */
export function sightingsOf(items: readonly PipelineItem[]): EventSightingBatch[] {
  const byKey = new Map<string, { -readonly [K in keyof EventSightingBatch]: EventSightingBatch[K] }>();
  for (const { event, normalised } of items) {
    const at = isoOrReceived(normalised.timestamp, event.receivedAt);
    for (const observable of normalised.observables) {
      let value: string;
      try {
        value = normaliseObservable(observable.type, observable.value);
      } catch {
        continue;
      }
      const key = `${event.orgId}\u0000${observable.type}\u0000${value}`;
      const seen = byKey.get(key);
      if (seen === undefined) {
        byKey.set(key, {
          orgId: event.orgId,
          type: observable.type,
          value,
          firstSeen: at,
          lastSeen: at,
          count: 1,
          lastEventId: event.id,
        });
      } else {
        seen.count += 1;
        if (at < seen.firstSeen) seen.firstSeen = at;
        if (at >= seen.lastSeen) {
          seen.lastSeen = at;
          seen.lastEventId = event.id;
        }
      }
    }
  }
  return [...byKey.values()];
}

/**
 * The consumer behind the spool: reads events in order, normalises them, stores them and runs
 * detection, and commits its spool position in the same transaction as those writes. A crash at any
 * point replays from the committed position, and the writes are idempotent (event ids, and the
 * position itself), so every spooled event is processed exactly once.
 */
export class IngestPipeline {
  private readonly consumer: string;
  private readonly batchSize: number;
  private readonly stateEveryMs: number;
  private abort = new AbortController();
  private running: Promise<void> | null = null;
  private position = 0;
  private savedState = 0;
  /** True between detecting a batch and committing it: in-memory state is then ahead of the position. */
  private stateAhead = false;
  private processed = 0;
  private batches = 0;
  private failures = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly context: ServiceContext,
    private readonly spool: SpoolSource,
    private readonly options: PipelineOptions,
  ) {
    this.consumer = options.consumer ?? 'main';
    this.batchSize = options.batchSize ?? 2000;
    this.stateEveryMs = options.stateEveryMs ?? 10_000;
  }

  start(): void {
    if (this.running) return;
    this.abort = new AbortController();
    this.running = this.run(this.abort.signal);
  }

  /** Stops after the batch in hand and saves detection state, so a restart replays nothing. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.abort.abort();
    await this.running;
    this.running = null;
    const detection = this.options.detection;
    if (detection && !this.stateAhead && this.position > this.savedState) {
      const position = this.position;
      await inTransaction(this.context, (unit) => detection.checkpoint(unit, position));
      this.savedState = position;
    }
  }

  stats(): PipelineStats {
    return {
      processed: this.processed,
      batches: this.batches,
      position: this.position,
      failures: this.failures,
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

  private normalise(event: ReceivedEvent): NormalisedEvent {
    try {
      return this.options.normalise(event);
    } catch (error) {
      // The parsers promise never to throw; if one does, the event is still kept, raw.
      this.options.onError?.(error);
      return fallback(event);
    }
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

  private async consume(signal: AbortSignal): Promise<void> {
    const detection = this.options.detection;
    const committed = (await readCheckpoint(this.context.database.db, this.consumer)) ?? 0;
    const statePosition = detection ? Math.min(await detection.restore(), committed) : committed;
    this.position = committed;
    await this.spool.release(statePosition);

    // Rebuild detection state from the events it had not yet saved.
    this.stateAhead = false;
    let replay = statePosition;
    while (detection && replay < committed && !signal.aborted) {
      const records = await this.spool.read(replay, this.batchSize);
      const usable = records.filter((r) => r.position <= committed);
      if (usable.length === 0) break;
      await detection.warm(usable.map((r) => ({ ...r, normalised: this.normalise(r.event) })));
      replay = usable.at(-1)!.position;
    }

    let lastState = Date.now();
    this.savedState = statePosition;
    while (!signal.aborted) {
      const records = await this.spool.read(this.position, this.batchSize);
      if (records.length === 0) {
        this.notifyProgress();
        await this.spool.waitForData(this.position, signal);
        continue;
      }
      const items: PipelineItem[] = records.map((r) => ({ ...r, normalised: this.normalise(r.event) }));
      const last = items.at(-1)!.position;
      const saveState = detection !== undefined && Date.now() - lastState >= this.stateEveryMs;
      this.stateAhead = detection !== undefined;
      const found = detection ? await detection.detect(items) : undefined;
      await inTransaction(this.context, async (unit) => {
        await insertEvents(unit.tx, items.map(eventRow), this.context.database.prepareNative);
        await recordEventSightings(unit.tx, sightingsOf(items), this.context.database.prepareNative);
        if (detection) {
          await detection.record(unit, found);
          if (saveState) await detection.checkpoint(unit, last);
        }
        await writeCheckpoint(unit.tx, this.consumer, last, unit.now);
      });
      this.position = last;
      this.stateAhead = false;
      this.processed += items.length;
      this.batches += 1;
      if (saveState) {
        lastState = Date.now();
        this.savedState = last;
      }
      await this.spool.release(detection ? this.savedState : last);
      this.notifyProgress();
    }
  }
}
