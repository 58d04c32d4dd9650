import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Detection in the server: the rules each organisation runs (with every earlier version), the
 * suppressions that silence known noise, the per-organisation detection policy, the checkpointed
 * correlation and anomaly state, and on alerts the rule and entity a detection raised them for.
 *
 * Rule ids are text on both engines: a Sigma `id` is usually a UUID but nothing forces it, and the
 * same Sigma rule may be imported by several organisations, so the key is (org_id, id).
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const pg = dialect === 'postgres';
  const id = sql.raw(pg ? 'uuid' : 'text');
  const ts = sql.raw(pg ? 'timestamptz' : 'text');
  const flag = sql.raw(pg ? 'smallint' : 'integer');
  const big = sql.raw(pg ? 'bigint' : 'integer');

  await db.schema
    .createTable('rules')
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('level_override', 'text')
    .addColumn('enabled', flag, (c) => c.notNull())
    .addColumn('yaml', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('rules_pk', ['org_id', 'id'])
    .execute();
  await db.schema.createIndex('rules_org_title').on('rules').columns(['org_id', 'title', 'id']).execute();
  await db.schema
    .createIndex('rules_org_updated')
    .on('rules')
    .columns(['org_id', 'updated_at', 'id'])
    .execute();

  await db.schema
    .createTable('rule_versions')
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('yaml', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('rule_versions_pk', ['org_id', 'rule_id', 'version'])
    .execute();

  await db.schema
    .createTable('suppressions')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('rule_id', 'text')
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('expires_at', ts)
    .addColumn('created_by_kind', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'text', (c) => c.notNull())
    .addColumn('created_by_name', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('hit_count', big, (c) => c.notNull().defaultTo(0))
    .addColumn('last_hit_at', ts)
    .execute();
  await db.schema
    .createIndex('suppressions_org_created')
    .on('suppressions')
    .columns(['org_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('detection_policies')
    .addColumn('org_id', id, (c) => c.primaryKey().references('organizations.id'))
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('detection_state')
    .addColumn('org_id', id, (c) => c.primaryKey().references('organizations.id'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();

  await db.schema.alterTable('alerts').addColumn('rule_id', 'text').execute();
  await db.schema.alterTable('alerts').addColumn('entity', 'text').execute();
  // Dedup (same rule and entity since a time) and per-rule statistics.
  await db.schema
    .createIndex('alerts_org_rule_entity')
    .on('alerts')
    .columns(['org_id', 'rule_id', 'entity', 'first_seen'])
    .where(sql.ref('rule_id'), 'is not', null)
    .execute();
  // Grouping: open incidents holding an alert of the same entity.
  await db.schema
    .createIndex('alerts_org_entity')
    .on('alerts')
    .columns(['org_id', 'entity', 'last_seen'])
    .where(sql.ref('entity'), 'is not', null)
    .execute();
}
