/**
 * One listener's queue in front of the sink: collects frames into batches (maxFrames or maxDelayMs),
 * keeps one sink call in flight at a time (so each connection's frames arrive in order), retries
 * on RateLimitedError / OperationalError, and tells the connections whose frames are in flight to
 * stop reading until the sink has made them durable.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OperationalError, RateLimitedError } from '../../core/errors.js';
import type {
  SyslogErrorContext,
  SyslogFrame,
  SyslogListenerStats,
  SyslogSink,
  SyslogTransport,
} from './types.js';

/** A frame's origin that wants to know when its frames are in the sink (a stream connection). */
export interface BatchMember {
  /** Frames of this member went into the sink: stop reading. */
  hold(): void;
  /** Those frames are durable (or dropped): reading may continue. */
  release(): void;
  /** The sink refused those frames for good: close the connection so the sender notices. */
  abort(error: unknown): void;
}

export interface BatcherOptions {
  readonly transport: SyslogTransport;
  readonly sink: SyslogSink;
  readonly maxFrames: number;
  readonly maxDelayMs: number;
  /** Queue bounds (frames waiting, not counting the batch in the sink). */
  readonly capacityFrames: number;
  readonly capacityBytes: number;
  readonly stats: SyslogListenerStats;
  readonly onError: (error: unknown, context: SyslogErrorContext) => void;
}

const MIN_RETRY_MS = 50;
const MAX_RETRY_MS = 30_000;

export function newListenerStats(): SyslogListenerStats {
  return {
    framesReceived: 0,
    framesDelivered: 0,
    framesDropped: 0,
    framesTruncated: 0,
    partialFramesDiscarded: 0,
    framingErrors: 0,
    bytesReceived: 0,
    sinkCalls: 0,
    sinkRetries: 0,
    pauses: 0,
    queuedFrames: 0,
    connectionsAccepted: 0,
    connectionsOpen: 0,
    connectionsRefused: 0,
    connectionsIdleClosed: 0,
    tlsHandshakeFailures: 0,
  };
}

export class FrameBatcher {
  private pending: SyslogFrame[] = [];
  private pendingBytes = 0;
  private pendingMembers = new Set<BatchMember>();
  private lastMember: BatchMember | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The oldest pending frame waited maxDelayMs while a call was in flight: flush right after. */
  private due = false;
  private closing = false;
  private readonly giveUp = new AbortController();
  private readonly roomWaiters = new Set<() => void>();

  constructor(private readonly options: BatcherOptions) {}

  /** Whether the queue is under its bounds. Stream readers pause when not; UDP drops. */
  hasRoom(): boolean {
    return (
      this.pending.length < this.options.capacityFrames && this.pendingBytes < this.options.capacityBytes
    );
  }

  /** Queue one frame (callers check `hasRoom` first, per read, so a read may overshoot once). */
  add(frame: SyslogFrame, member?: BatchMember): void {
    this.pending.push(frame);
    this.pendingBytes += frame.text.length;
    this.options.stats.framesReceived += 1;
    this.options.stats.queuedFrames += 1;
    // Consecutive frames mostly come from one connection: skip the set lookup for those.
    if (member !== undefined && member !== this.lastMember) {
      this.pendingMembers.add(member);
      this.lastMember = member;
    }
    if (this.pending.length >= this.options.maxFrames) this.flush();
    else if (this.timer === undefined && !this.due) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.due = true;
        this.flush();
      }, this.options.maxDelayMs);
    }
  }

  /** Call `wake` once when the queue has room again. */
  waitForRoom(wake: () => void): void {
    this.roomWaiters.add(wake);
  }

  /** Forget a waiter (its connection closed). */
  cancelWait(wake: () => void): void {
    this.roomWaiters.delete(wake);
  }

  /**
   * Deliver everything queued, offering it to a refusing sink until `timeoutMs` has passed; then
   * drop what is left (counted). Resolves when the queue is empty.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    const deadline = setTimeout(() => this.giveUp.abort(), timeoutMs);
    try {
      const gaveUp = new Promise<'gave_up'>((resolve) =>
        this.giveUp.signal.addEventListener('abort', () => resolve('gave_up'), { once: true }),
      );
      this.flush();
      while (this.inFlight !== undefined) {
        // A sink that never settles must not hold close() forever.
        if ((await Promise.race([this.inFlight, gaveUp])) === 'gave_up') {
          this.drop(this.pending.length);
          this.pending = [];
          return;
        }
        this.flush();
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  private flush(): void {
    if (this.inFlight !== undefined || this.pending.length === 0) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.due = false;
    const batch = this.pending;
    const members = [...this.pendingMembers];
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingMembers = new Set();
    this.lastMember = undefined;
    for (const member of members) member.hold();
    this.inFlight = this.deliver(batch, members).finally(() => {
      this.inFlight = undefined;
      for (const member of members) member.release();
      if (this.pending.length >= this.options.maxFrames || this.due || this.closing) this.flush();
      else if (this.pending.length > 0 && this.timer === undefined) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.due = true;
          this.flush();
        }, this.options.maxDelayMs);
      }
      this.wakeWaiters();
    });
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    if (!this.hasRoom() || this.roomWaiters.size === 0) return;
    const waiters = [...this.roomWaiters];
    this.roomWaiters.clear();
    for (const wake of waiters) wake();
  }

  private async deliver(batch: SyslogFrame[], members: BatchMember[]): Promise<void> {
    const { stats, sink, transport, onError } = this.options;
    let backoffMs = 100;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) stats.sinkRetries += 1;
      stats.sinkCalls += 1;
      try {
        await sink(batch);
        stats.framesDelivered += batch.length;
        stats.queuedFrames -= batch.length;
        return;
      } catch (error) {
        let waitMs: number;
        if (error instanceof RateLimitedError) {
          waitMs = error.retryAfterSeconds * 1000;
        } else if (error instanceof OperationalError) {
          onError(error, { transport, during: 'sink' });
          waitMs = backoffMs;
          backoffMs = Math.min(backoffMs * 2, 5000);
        } else {
          onError(error, { transport, during: 'sink' });
          this.drop(batch.length);
          for (const member of members) member.abort(error);
          return;
        }
        waitMs = Math.min(Math.max(waitMs, MIN_RETRY_MS), MAX_RETRY_MS);
        try {
          await sleep(waitMs, undefined, { signal: this.giveUp.signal });
        } catch {
          // close() gave up waiting for the sink.
          this.drop(batch.length);
          return;
        }
      }
    }
  }

  private drop(frames: number): void {
    this.options.stats.framesDropped += frames;
    this.options.stats.queuedFrames -= frames;
  }

  /** UDP: a frame that found the queue full. */
  countDropped(): void {
    this.options.stats.framesReceived += 1;
    this.options.stats.framesDropped += 1;
  }
}
