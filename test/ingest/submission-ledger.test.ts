import { describe, expect, it } from 'vitest';
import { OperationalError } from '../../src/core/errors.js';
import { SubmissionLedger } from '../../src/ingest/submission-ledger.js';

/** A ledger over a stand-in database and pipeline whose positions the test moves. */
function ledger(options: { caughtUp?: boolean } = {}) {
  const db = new Map<string, number>();
  const state = { caughtUp: options.caughtUp ?? true, stored: 0, spooled: 0, lookups: 0 };
  const subject = new SubmissionLedger({
    stored: (orgId, key) => {
      state.lookups++;
      return Promise.resolve(db.get(`${orgId}/${key}`) ?? null);
    },
    caughtUp: () => state.caughtUp,
    storedPosition: () => state.stored,
    spooledPosition: () => state.spooled,
  });
  /** An accept that spools `n` events and counts its calls. */
  let calls = 0;
  const accept = (n: number) => async () => {
    calls++;
    await Promise.resolve();
    state.spooled += n;
    return n;
  };
  return { subject, db, state, accept, calls: () => calls };
}

describe('SubmissionLedger', () => {
  it('takes a key once per organisation and answers a retry with the first count', async () => {
    const { subject, accept, calls } = ledger();
    expect(await subject.once('org-a', 'k1', accept(3))).toEqual({ accepted: 3, duplicate: false });
    expect(await subject.once('org-a', 'k1', accept(5))).toEqual({ accepted: 3, duplicate: true });
    expect(await subject.once('org-b', 'k1', accept(2))).toEqual({ accepted: 2, duplicate: false });
    expect(calls()).toBe(2);
  });

  it('takes concurrent calls with the same key once', async () => {
    const { subject, accept, calls } = ledger();
    const outcomes = await Promise.all([
      subject.once('org', 'same', accept(4)),
      subject.once('org', 'same', accept(4)),
      subject.once('org', 'same', accept(4)),
    ]);
    expect(calls()).toBe(1);
    expect(outcomes.map((o) => o.duplicate).sort()).toEqual([false, true, true]);
    expect(outcomes.every((o) => o.accepted === 4)).toBe(true);
  });

  it('lets a waiting call try when the first attempt failed (it took nothing)', async () => {
    const { subject, accept, calls } = ledger();
    const failing = subject.once('org', 'k', () => Promise.reject(new Error('spool full')));
    const retry = subject.once('org', 'k', accept(2));
    await expect(failing).rejects.toThrow('spool full');
    expect(await retry).toEqual({ accepted: 2, duplicate: false });
    expect(calls()).toBe(1);
  });

  it('answers from the database once the pipeline has stored the submission', async () => {
    const { subject, db, state, accept } = ledger();
    await subject.once('org', 'k', accept(7));
    expect(state.lookups).toBe(1); // the first call looked and found nothing
    // The pipeline stores it (and records the key in the same transaction), then moves past it.
    db.set('org/k', 7);
    state.stored = state.spooled;
    expect(await subject.once('org', 'k', accept(7))).toEqual({ accepted: 7, duplicate: true });
    expect(state.lookups).toBe(2); // forgotten here, found in the database
  });

  it('after a restart, refuses keyed submissions until the pipeline has caught up, then finds old keys', async () => {
    const { subject, db, state, accept, calls } = ledger({ caughtUp: false });
    const refused = await subject.once('org', 'k', accept(1)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OperationalError);
    expect((refused as OperationalError).code).toBe('submissions_recovering');
    db.set('org/k', 9); // the replayed spool recorded it
    state.caughtUp = true;
    expect(await subject.once('org', 'k', accept(1))).toEqual({ accepted: 9, duplicate: true });
    expect(calls()).toBe(0);
  });
});
