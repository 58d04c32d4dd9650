import type { Clock } from './clock.js';

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Seconds until another attempt would be allowed; 0 when allowed. */
  readonly retryAfterSeconds: number;
}

/**
 * Pure given its clock: a fixed-window failure counter per key (for login: one key per account and one
 * per address). `check` says whether a key is locked; `fail` records a failure; `reset` forgets a key
 * after a success. Memory is bounded: at most `maxKeys` keys, the oldest windows evicted first.
 */
export class FailureRateLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  check(key: string): RateLimitDecision {
    const entry = this.current(key);
    if (!entry || entry.failures < this.maxFailures) return { allowed: true, retryAfterSeconds: 0 };
    const remaining = entry.start + this.windowMs - this.clock.now().getTime();
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(remaining / 1000)) };
  }

  fail(key: string): void {
    const entry = this.current(key);
    if (entry) {
      entry.failures += 1;
      return;
    }
    if (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(key, { start: this.clock.now().getTime(), failures: 1 });
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private current(key: string): { start: number; failures: number } | undefined {
    const entry = this.windows.get(key);
    if (entry && entry.start + this.windowMs <= this.clock.now().getTime()) {
      this.windows.delete(key);
      return undefined;
    }
    return entry;
  }
}
