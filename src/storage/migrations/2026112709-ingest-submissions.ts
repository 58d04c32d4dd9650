import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Event submissions that carried an idempotency key (`POST /api/v1/events` with `Idempotency-Key`),
 * recorded by the pipeline in the same transaction as their events: a sender's retry of a batch the
 * server already took is answered from here instead of being stored twice. Purged with the events.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const pg = dialect === 'postgres';
  await db.schema
    .createTable('ingest_submissions')
    .addColumn('org_id', sql.raw(pg ? 'uuid' : 'text'), (c) => c.notNull().references('organizations.id'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('events', 'integer', (c) => c.notNull())
    .addColumn('received_at', sql.raw(pg ? 'timestamptz' : 'text'), (c) => c.notNull())
    .addPrimaryKeyConstraint('ingest_submissions_pk', ['org_id', 'key'])
    .execute();
  await db.schema
    .createIndex('ingest_submissions_received')
    .on('ingest_submissions')
    .column('received_at')
    .execute();
}
