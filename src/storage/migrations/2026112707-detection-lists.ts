import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Value lists an organisation imports for its rules (known-bad addresses, admin groups, ...): each
 * fills the `expand` placeholder of the same name (`%firebreak_blocklist_ips%`).
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const pg = dialect === 'postgres';
  const id = sql.raw(pg ? 'uuid' : 'text');
  const ts = sql.raw(pg ? 'timestamptz' : 'text');
  await db.schema
    .createTable('detection_lists')
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    /** JSON array of strings. */
    .addColumn('entries', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('detection_lists_pk', ['org_id', 'name'])
    .execute();
}
