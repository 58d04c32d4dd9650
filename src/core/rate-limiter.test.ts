import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { FailureRateLimiter } from './rate-limiter.js';

describe('failure rate limiter', () => {
  it('locks a key after the allowed failures until the window passes', () => {
    const clock = new ManualClock();
    const limiter = new FailureRateLimiter(clock, 3, 60_000);
    for (let i = 0; i < 3; i += 1) {
      expect(limiter.check('k').allowed).toBe(true);
      limiter.fail('k');
    }
    expect(limiter.check('k')).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(limiter.check('other').allowed).toBe(true);
    clock.advance(30_000);
    expect(limiter.check('k').retryAfterSeconds).toBe(30);
    clock.advance(30_000);
    expect(limiter.check('k').allowed).toBe(true);
  });

  it('forgets a key on reset and bounds the number of keys', () => {
    const limiter = new FailureRateLimiter(new ManualClock(), 1, 60_000, 2);
    limiter.fail('a');
    limiter.reset('a');
    expect(limiter.check('a').allowed).toBe(true);
    limiter.fail('a');
    limiter.fail('b');
    limiter.fail('c');
    expect(limiter.check('a').allowed).toBe(true);
    expect(limiter.check('c').allowed).toBe(false);
  });
});
