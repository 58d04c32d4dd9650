import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Alert webhook integrations (Alertmanager, Suricata, Wazuh, generic JSON) and what their alerts
 * need beyond the initial shape: a description and the time the source said the condition ended.
 *
 * An integration's token is stored as its SHA-256 only (like API tokens). Names are unique among
 * the live integrations of an organisation, so a disabled one frees its name.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const pg = dialect === 'postgres';
  const id = sql.raw(pg ? 'uuid' : 'text');
  const ts = sql.raw(pg ? 'timestamptz' : 'text');

  await db.schema
    .createTable('integrations')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('mapping', 'text')
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('token_prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('last_used_at', ts)
    .addColumn('disabled_at', ts)
    .execute();
  await db.schema
    .createIndex('integrations_org_created')
    .on('integrations')
    .columns(['org_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('integrations_org_live_name')
    .on('integrations')
    .columns(['org_id', 'name'])
    .unique()
    .where(sql.ref('disabled_at'), 'is', null)
    .execute();

  await db.schema.alterTable('alerts').addColumn('description', 'text').execute();
  await db.schema.alterTable('alerts').addColumn('resolved_at', ts).execute();
}
