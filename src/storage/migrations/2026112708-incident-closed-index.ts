import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/** The stats overview counts incidents closed per week: an index on the close time keeps that a range scan. */
export async function up(db: Kysely<unknown>, _context: MigrationContext): Promise<void> {
  await db.schema
    .createIndex('incidents_org_closed')
    .on('incidents')
    .columns(['org_id', 'closed_at'])
    .execute();
}
