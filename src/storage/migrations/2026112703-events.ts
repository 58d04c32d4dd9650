import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Received events (kept as received and normalised) and the ingestion pipeline's checkpoints.
 *
 * Events are listed newest first within a time range, so the one search index leads with
 * (org_id, timestamp). Retention deletes by id: ids are UUIDv7 minted on receipt, so id order is
 * receive order and the primary key serves it without another index to maintain at 50,000 rows/s.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const pg = dialect === 'postgres';
  const id = sql.raw(pg ? 'uuid' : 'text');
  const ts = sql.raw(pg ? 'timestamptz' : 'text');
  const big = sql.raw(pg ? 'bigint' : 'integer');

  await db.schema
    .createTable('events')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('received_at', ts, (c) => c.notNull())
    .addColumn('timestamp', ts, (c) => c.notNull())
    .addColumn('source_kind', 'text', (c) => c.notNull())
    .addColumn('source_name', 'text')
    .addColumn('source_peer', 'text')
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('parser', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('fields', 'text', (c) => c.notNull())
    .addColumn('raw', 'text', (c) => c.notNull())
    .addColumn('raw_is_json', sql.raw(pg ? 'smallint' : 'integer'), (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('events_org_time')
    .on('events')
    .columns(['org_id', 'timestamp', 'id'])
    .execute();

  await db.schema
    .createTable('ingest_checkpoints')
    .addColumn('consumer', 'text', (c) => c.primaryKey())
    .addColumn('position', big, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
}
