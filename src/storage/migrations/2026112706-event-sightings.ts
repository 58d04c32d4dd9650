import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Where values were seen in received events: one row per organisation, observable type and value,
 * with the first and last event time and a count. Ingestion upserts it once per value per batch, so
 * "where else did we see this address?" answers from events as well as alerts and incidents without
 * a row per event.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const pg = dialect === 'postgres';
  const id = sql.raw(pg ? 'uuid' : 'text');
  const ts = sql.raw(pg ? 'timestamptz' : 'text');
  const big = sql.raw(pg ? 'bigint' : 'integer');
  await db.schema
    .createTable('event_sightings')
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('first_seen', ts, (c) => c.notNull())
    .addColumn('last_seen', ts, (c) => c.notNull())
    .addColumn('count', big, (c) => c.notNull())
    .addColumn('last_event_id', id, (c) => c.notNull())
    .addPrimaryKeyConstraint('event_sightings_pk', ['org_id', 'type', 'value'])
    .execute();
}
