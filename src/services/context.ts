import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Sha256Hex } from '../core/audit-chain.js';
import type { Clock } from '../core/clock.js';
import type { IdGenerator } from '../core/ids.js';
import { appendAudit, changeOf, type AuditAppend, type ChangeNotice } from '../storage/audit-repository.js';
import type { EventIntake, SubmissionGate } from '../ingest/event-record.js';
import type { Database, WriteOptions } from '../storage/database.js';
import type { Schema } from '../storage/schema.js';

/** A change that committed, for live listeners (the web console's event stream, workers). */
export type DomainEvent = ChangeNotice;

export type DomainEventListener = (event: DomainEvent) => void;

/** What every service function needs: the database, time, ids and hashing. */
export interface ServiceContext {
  readonly database: Database;
  readonly clock: Clock;
  readonly newId: IdGenerator;
  readonly sha256: Sha256Hex;
  readonly listeners: Set<DomainEventListener>;
  /** Names this process in change notices, so it ignores the echo of its own changes. */
  readonly instanceId: string;
  /** Where received events go (the durable spool); absent in processes that take no events. */
  readonly intake?: EventIntake;
  /** Where keyed event submissions pass, in a process that takes events (see submission-ledger.ts). */
  readonly submissions?: SubmissionGate;
}

export const sha256Hex: Sha256Hex = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A unit of work: the transaction plus the audit records to append and announce. */
export interface UnitOfWork {
  readonly tx: Kysely<Schema>;
  readonly now: string;
  audit(entry: Omit<AuditAppend, 'at'>): Promise<void>;
}

/**
 * Runs `work` in one transaction: state changes and their audit records commit together or not at
 * all. Listeners hear about the changes only after the commit. Do not nest: a unit of work must not
 * call `inTransaction` again (pass the unit down instead, as `createIncidentIn` does).
 */
export async function inTransaction<T>(
  context: ServiceContext,
  work: (unit: UnitOfWork) => Promise<T>,
  options?: WriteOptions,
): Promise<T> {
  const events: DomainEvent[] = [];
  const now = context.clock.now().toISOString();
  const result = await context.database.write(async (tx) => {
    // The database may run the work again (after a deadlock); only the attempt that commits speaks.
    events.length = 0;
    const unit: UnitOfWork = {
      tx,
      now,
      audit: async (entry) => {
        const record = await appendAudit(
          tx,
          {
            dialect: context.database.dialect,
            newId: context.newId,
            sha256: context.sha256,
            instanceId: context.instanceId,
          },
          {
            ...entry,
            at: now,
          },
        );
        events.push(changeOf(record));
      },
    };
    return work(unit);
  }, options);
  // Other processes on the same PostgreSQL database hear of it through the change feed.
  for (const event of events) announce(context, event);
  return result;
}

/** Tells every listener about a committed change; a failing listener cannot fail the caller. */
export function announce(context: ServiceContext, event: DomainEvent): void {
  for (const listener of context.listeners) {
    try {
      listener(event);
    } catch {
      // A listener's failure must not turn a committed change into an error for the caller.
    }
  }
}
