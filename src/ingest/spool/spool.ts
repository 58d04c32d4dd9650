/**
 * The port between sources and the pipeline (see docs/spool.md). Sources `append` and acknowledge only
 * after it resolves; one consumer `read`s in position order and `release`s what it has committed.
 * `FileSpool` implements it on local segment files; a NATS JetStream adapter can implement it later
 * (positions become stream sequence numbers, `release` an ack floor / purge).
 */
import type { EventIntake, ReceivedEvent } from '../event-record.js';

/** One stored event and its position (1, 2, 3, ... in append order; never reused). */
export interface SpooledEvent {
  readonly position: number;
  readonly event: ReceivedEvent;
}

/** One stored event as its JSON text, for a consumer that decodes elsewhere (a worker thread). */
export interface SpooledText {
  readonly position: number;
  readonly text: string;
}

/**
 * Positions an append received. FileSpool gives each call a contiguous range; an adapter over a log
 * shared with other writers reports the smallest range that contains the call's records.
 * An empty call gets `firstPosition === lastPosition + 1`.
 */
export interface AppendReceipt {
  readonly firstPosition: number;
  readonly lastPosition: number;
}

/** Counters and gauges for metrics. Counters run from the spool's opening. */
export interface SpoolStats {
  /** Bytes appended (or in flight) and not yet released: what the backlog limit applies to. */
  readonly backlogBytes: number;
  /** Positions appended and not yet released. */
  readonly backlogRecords: number;
  readonly backlogLimitBytes: number;
  /** True while appends are refused with `spool_full` (see `Spool.full`). */
  readonly full: boolean;
  readonly segments: number;
  /** Last durable position (0 when nothing was ever appended). */
  readonly lastPosition: number;
  /** Highest position the consumer released. */
  readonly releasedPosition: number;
  readonly appendCalls: number;
  readonly appendedRecords: number;
  readonly appendedBytes: number;
  /** Writes, each covering every append waiting at the time (group commit). */
  readonly writes: number;
  /** fsync/fdatasync calls of any kind (record writes, new segments, directory, rollbacks). */
  readonly fsyncs: number;
  /** Reads served from the last writes kept in memory instead of from the file. */
  readonly readsFromMemory: number;
  /** Appends refused because the backlog was full. */
  readonly rejectedCalls: number;
  /** Appends that failed on a disk error (nothing of them was kept). */
  readonly failedCalls: number;
  /** Damaged stretches skipped (reading, or recovery of the last segment). */
  readonly corruptRecords: number;
  /** Bytes cut from the end of the last segment on opening (a torn, unacknowledged write). */
  readonly recoveredTailBytes: number;
}

export interface Spool {
  /**
   * Stores the events, in order, after any earlier call that already resolved. Resolves only after
   * they are written and fsynced; concurrent calls share one write and one fsync.
   * Rejects with RateLimitedError `spool_full` (and `retryAfterSeconds`) when the backlog is over its
   * limit, UserError `spool_record_too_large` / `spool_record_unserialisable` for a bad event,
   * OperationalError `spool_write_failed` / `spool_failed` on a disk error, IllegalStateError
   * `spool_closed` after close. On any rejection nothing of the call is kept.
   */
  append(events: readonly ReceivedEvent[]): Promise<AppendReceipt>;

  /**
   * Up to `maxEvents` durable events with positions above `after`, in order; empty when there are
   * none yet. Single consumer: calls must not overlap (IllegalStateError `spool_read_in_progress`).
   * Positions of damaged records are skipped (counted in `corruptRecords`), never thrown.
   */
  read(after: number, maxEvents: number): Promise<SpooledEvent[]>;

  /** As `read`, the events left as their JSON text (CRC checked, not parsed). */
  readTexts(after: number, maxEvents: number): Promise<SpooledText[]>;

  /**
   * Resolves once an event with a position above `after` is durable. Rejects with the signal's
   * reason when `signal` aborts, and with IllegalStateError `spool_closed` when the spool closes.
   */
  waitForData(after: number, signal?: AbortSignal): Promise<void>;

  /**
   * The consumer has durably processed every position up to `upTo`: space behind it may be
   * reclaimed and the backlog shrinks. Call it on start with the checkpoint from the database. Lower
   * values than before are ignored. A value beyond the last appended position (the spool directory
   * was emptied) moves the next position past it, so new events are never mistaken for processed ones.
   */
  release(upTo: number): Promise<void>;

  /** True while appends are refused: sources should stop reading (TCP) or answer 429 (HTTP). */
  readonly full: boolean;

  /** Calls `listener` each time `full` changes (read `full` for the state now); returns the unsubscribe. */
  onFullChange(listener: (full: boolean) => void): () => void;

  stats(): SpoolStats;

  /** Finishes writes already accepted, then closes. Idempotent. */
  close(): Promise<void>;
}

/** The spool seen from sources: `submit` is `append` without the receipt. */
export function spoolIntake(spool: Spool): EventIntake {
  return {
    async submit(events) {
      await spool.append(events);
    },
  };
}
