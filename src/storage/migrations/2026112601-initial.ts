import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * The first schema. Column types differ per engine only where they must (ids, timestamps); every
 * organisation-scoped table leads its indexes with org_id so no query crosses organisations by scan.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const pg = dialect === 'postgres';
  const id = sql.raw(pg ? 'uuid' : 'text');
  const ts = sql.raw(pg ? 'timestamptz' : 'text');
  const flag = sql.raw(pg ? 'smallint' : 'integer');
  const big = sql.raw(pg ? 'bigint' : 'integer');

  await db.schema
    .createTable('organizations')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('disabled', flag, (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('users_org').on('users').columns(['org_id', 'email']).execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('user_id', id, (c) => c.notNull().references('users.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .addColumn('last_seen_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('user_id', id, (c) => c.notNull().references('users.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts)
    .addColumn('last_used_at', ts)
    .addColumn('revoked_at', ts)
    .execute();
  await db.schema
    .createIndex('api_tokens_org_user')
    .on('api_tokens')
    .columns(['org_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('incidents')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('severity_rank', 'integer', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('tlp', 'text', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('assignee_id', id, (c) => c.references('users.id'))
    .addColumn('personal_data', flag, (c) => c.notNull())
    .addColumn('resolution', 'text')
    .addColumn('review_summary', 'text')
    .addColumn('phase_entered_at', 'text', (c) => c.notNull())
    .addColumn('detected_at', ts, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('acknowledged_at', ts)
    .addColumn('contained_at', ts)
    .addColumn('remediated_at', ts)
    .addColumn('closed_at', ts)
    .execute();
  // Keyset pagination: (org, [filter], sort column, id).
  for (const sortColumn of ['created_at', 'updated_at', 'detected_at']) {
    await db.schema
      .createIndex(`incidents_org_${sortColumn}`)
      .on('incidents')
      .columns(['org_id', sortColumn, 'id'])
      .execute();
  }
  await db.schema
    .createIndex('incidents_org_phase_created')
    .on('incidents')
    .columns(['org_id', 'phase', 'created_at', 'id'])
    .execute();
  // The triage view: one phase (or a few), worst first.
  await db.schema
    .createIndex('incidents_org_phase_severity_created')
    .on('incidents')
    .columns(['org_id', 'phase', 'severity_rank', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('incidents_org_severity_created')
    .on('incidents')
    .columns(['org_id', 'severity_rank', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('rule', 'text')
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('severity_rank', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('dismiss_reason', 'text')
    .addColumn('dismiss_comment', 'text')
    .addColumn('dedup_key', 'text')
    .addColumn('first_seen', ts, (c) => c.notNull())
    .addColumn('last_seen', ts, (c) => c.notNull())
    .addColumn('occurrence_count', big, (c) => c.notNull())
    .addColumn('payload', 'text')
    .addColumn('incident_id', id, (c) => c.references('incidents.id'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  // NULL dedup keys never collide, so alerts without one are always new.
  await db.schema
    .createIndex('alerts_org_dedup')
    .on('alerts')
    .columns(['org_id', 'dedup_key'])
    .unique()
    .execute();
  await db.schema
    .createIndex('alerts_org_created')
    .on('alerts')
    .columns(['org_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('alerts_org_status_created')
    .on('alerts')
    .columns(['org_id', 'status', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('alerts_org_last_seen')
    .on('alerts')
    .columns(['org_id', 'last_seen', 'id'])
    .execute();
  await db.schema.createIndex('alerts_incident').on('alerts').columns(['incident_id']).execute();

  await db.schema
    .createTable('observables')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('ioc', flag, (c) => c.notNull())
    .addColumn('tlp', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('sightings', big, (c) => c.notNull())
    .addColumn('first_seen', ts, (c) => c.notNull())
    .addColumn('last_seen', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('observables_org_type_value')
    .on('observables')
    .columns(['org_id', 'type', 'value'])
    .unique()
    .execute();

  await db.schema
    .createTable('observable_links')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('observable_id', id, (c) => c.notNull().references('observables.id'))
    .addColumn('incident_id', id, (c) => c.references('incidents.id'))
    .addColumn('alert_id', id, (c) => c.references('alerts.id'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('observable_links_observable_incident')
    .on('observable_links')
    .columns(['observable_id', 'incident_id'])
    .unique()
    .where(sql.ref('incident_id'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('observable_links_observable_alert')
    .on('observable_links')
    .columns(['observable_id', 'alert_id'])
    .unique()
    .where(sql.ref('alert_id'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('observable_links_observable_created')
    .on('observable_links')
    .columns(['observable_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('observable_links_incident')
    .on('observable_links')
    .column('incident_id')
    .execute();
  await db.schema.createIndex('observable_links_alert').on('observable_links').column('alert_id').execute();

  await db.schema
    .createTable('tasks')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('incident_id', id, (c) => c.notNull().references('incidents.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('assignee_id', id, (c) => c.references('users.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('completed_at', ts)
    .execute();
  await db.schema.createIndex('tasks_incident').on('tasks').columns(['incident_id', 'position']).execute();

  await db.schema
    .createTable('notes')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('incident_id', id, (c) => c.notNull().references('incidents.id'))
    .addColumn('author_kind', 'text', (c) => c.notNull())
    .addColumn('author_id', 'text', (c) => c.notNull())
    .addColumn('author_name', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notes_incident').on('notes').columns(['incident_id', 'created_at']).execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('organizations.id'))
    .addColumn('seq', big, (c) => c.notNull())
    .addColumn('at', ts, (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('incident_id', id)
    .addColumn('changes', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_log_org_seq')
    .on('audit_log')
    .columns(['org_id', 'seq'])
    .unique()
    .execute();
  await db.schema
    .createIndex('audit_log_incident')
    .on('audit_log')
    .columns(['org_id', 'incident_id', 'seq'])
    .where(sql.ref('incident_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('audit_heads')
    .addColumn('org_id', id, (c) => c.primaryKey().references('organizations.id'))
    .addColumn('seq', big, (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
}
