/**
 * Makes keyed event submissions idempotent (`POST /api/v1/events` with `Idempotency-Key`): a sender
 * that retries a batch after a timeout, not knowing whether the first attempt was taken, gets the
 * first attempt's answer instead of a second copy of its events.
 *
 * A key is known from the submissions this process accepted (kept here until the pipeline has stored
 * them) and from the database, where the pipeline records each key in the same transaction as its
 * events. The key travels in the spool with the first event, so it survives a crash with them; after a
 * restart, until the pipeline has stored everything the spool held at start, keyed submissions are
 * refused with a retryable error rather than risk taking one twice.
 */
import type { Kysely } from 'kysely';
import { OperationalError } from '../core/errors.js';
import { findSubmission } from '../storage/event-repository.js';
import type { Schema } from '../storage/schema.js';
import type { SubmissionGate, SubmissionOutcome } from './event-record.js';

export interface SubmissionLedgerDeps {
  /** How many events the stored submission had, or null when the database has no such key. */
  stored(orgId: string, key: string): Promise<number | null>;
  /** True once the pipeline has stored everything the spool held when this process started. */
  caughtUp(): boolean;
  /** The last spool position the pipeline has stored. */
  storedPosition(): number;
  /** The last spool position appended. */
  spooledPosition(): number;
}

export class SubmissionLedger implements SubmissionGate {
  /** Accepted here and maybe not stored yet, in acceptance order (so in spool order). */
  private readonly accepted = new Map<string, { readonly events: number; readonly position: number }>();
  private readonly inFlight = new Map<string, Promise<number>>();

  constructor(private readonly deps: SubmissionLedgerDeps) {}

  async once(orgId: string, key: string, accept: () => Promise<number>): Promise<SubmissionOutcome> {
    const id = `${orgId}\u0000${key}`;
    // The same key at the same time: the later call waits for the first; if that one failed, it tries.
    let pending = this.inFlight.get(id);
    while (pending !== undefined) {
      try {
        return { accepted: await pending, duplicate: true };
      } catch {
        // That attempt took nothing: wait for a newer one, or try.
        const next = this.inFlight.get(id);
        pending = next === pending ? undefined : next;
      }
    }
    const attempt = this.attempt(id, orgId, key, accept);
    const events = attempt.then((outcome) => outcome.accepted);
    events.catch(() => undefined); // waiters see the failure; nobody else must
    this.inFlight.set(id, events);
    try {
      return await attempt;
    } finally {
      if (this.inFlight.get(id) === events) this.inFlight.delete(id);
    }
  }

  private async attempt(
    id: string,
    orgId: string,
    key: string,
    accept: () => Promise<number>,
  ): Promise<SubmissionOutcome> {
    this.forgetStored();
    const known = this.accepted.get(id);
    if (known !== undefined) return { accepted: known.events, duplicate: true };
    if (!this.deps.caughtUp()) {
      throw new OperationalError(
        'submissions_recovering',
        'the server is still storing the events it took before it restarted; retry this keyed submission in a moment',
      );
    }
    const stored = await this.deps.stored(orgId, key);
    if (stored !== null) return { accepted: stored, duplicate: true };
    const events = await accept();
    // At or after this submission's last record: once the pipeline is past it, the database knows.
    this.accepted.set(id, { events, position: this.deps.spooledPosition() });
    return { accepted: events, duplicate: false };
  }

  /** Drops the keys the pipeline has stored (the database answers for them now). */
  private forgetStored(): void {
    const stored = this.deps.storedPosition();
    for (const [id, entry] of this.accepted) {
      if (entry.position > stored) break;
      this.accepted.delete(id);
    }
  }
}

/**
 * The ledger of a running event path: keys from the database, caught up once the pipeline (started)
 * has stored what the spool held now.
 */
export function ledgerFor(
  db: Kysely<Schema>,
  spool: { stats(): { readonly lastPosition: number } },
  pipeline: { drained(position: number): Promise<void>; stats(): { readonly position: number } },
): SubmissionLedger {
  let caughtUp = false;
  void pipeline.drained(spool.stats().lastPosition).then(() => {
    caughtUp = true;
  });
  return new SubmissionLedger({
    stored: (orgId, key) => findSubmission(db, orgId, key),
    caughtUp: () => caughtUp,
    storedPosition: () => pipeline.stats().position,
    spooledPosition: () => spool.stats().lastPosition,
  });
}
