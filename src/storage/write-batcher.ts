import { sql, type Kysely } from 'kysely';
import type { Schema } from './schema.js';

export type WriteWork<T> = (tx: Kysely<Schema>) => Promise<T>;

interface Queued {
  readonly work: WriteWork<unknown>;
  readonly durable: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for SQLite. Every commit in `synchronous=FULL` mode waits for the disk, so committing
 * each command on its own caps writes at the disk's flush rate. The batcher runs the commands that
 * queue while one batch commits as the next batch: one transaction, each command inside its own
 * savepoint (a failing command is rolled back alone and only its caller sees the error), one flush
 * for all. Callers are answered only after the commit, so nothing is acknowledged before it is
 * durable. Commands must not start another write from inside their work (it would wait for itself).
 *
 * A command may say it need not be durable (derived data, see WriteOptions.durable): a batch made only
 * of such commands commits with `synchronous=NORMAL` (no flush; WAL keeps the database consistent, and
 * the next flushed commit flushes it too). One durable command makes the whole batch flushed.
 */
export class WriteBatcher {
  private readonly queue: Queued[] = [];
  private draining = false;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly maxBatch = 256,
  ) {}

  run<T>(work: WriteWork<T>, durable = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, durable, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        // better-sqlite3 runs a whole batch, flush included, without giving the event loop a turn.
        // Yield once first so requests that arrived meanwhile join this batch instead of each
        // paying for a flush of its own.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await this.runBatch(this.queue.splice(0, this.maxBatch));
      }
    } finally {
      this.draining = false;
    }
  }

  private async runBatch(batch: Queued[]): Promise<void> {
    if (batch.some((item) => item.durable)) {
      (await this.runTransaction(batch))();
      return;
    }
    // Set outside the transaction, as SQLite requires, and set back before anyone hears of the
    // commit: everything else on this connection keeps the FULL it was opened with.
    try {
      await sql`pragma synchronous = NORMAL`.execute(this.db);
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    let settle: () => void = () => undefined;
    try {
      settle = await this.runTransaction(batch);
    } finally {
      await sql`pragma synchronous = FULL`.execute(this.db).catch(() => undefined);
      settle();
    }
  }

  /** Runs the batch in one transaction; answers its callers when the returned function is called. */
  private async runTransaction(batch: Queued[]): Promise<() => void> {
    const rejectAll = (error: unknown) => () => {
      for (const item of batch) item.reject(error);
    };
    let trx;
    try {
      trx = await this.db.startTransaction().execute();
    } catch (error) {
      return rejectAll(error);
    }
    const outcomes: Array<{ item: Queued; ok: boolean; value: unknown }> = [];
    try {
      for (const item of batch) {
        await sql`savepoint firebreak_work`.execute(trx);
        try {
          const value = await item.work(trx);
          await sql`release savepoint firebreak_work`.execute(trx);
          outcomes.push({ item, ok: true, value });
        } catch (error) {
          await sql`rollback to savepoint firebreak_work`.execute(trx);
          await sql`release savepoint firebreak_work`.execute(trx);
          outcomes.push({ item, ok: false, value: error });
        }
      }
      await trx.commit().execute();
    } catch (error) {
      // The batch as a whole failed (disk full, I/O error): nobody's work was committed.
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
      return rejectAll(error);
    }
    return () => {
      for (const { item, ok, value } of outcomes) {
        if (ok) item.resolve(value);
        else item.reject(value);
      }
    };
  }
}
