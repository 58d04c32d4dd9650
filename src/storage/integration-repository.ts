import type { Kysely, Selectable } from 'kysely';
import type { GenericMapping } from '../integrations/generic-mapping.js';
import type { Integration, IntegrationType } from '../integrations/types.js';
import type { IntegrationTable, Schema } from './schema.js';

/** Rows ⇄ integrations. Every query takes the organisation, except the lookup by token hash. */

export function integrationFromRow(row: Selectable<IntegrationTable>): Integration {
  return {
    id: row.id,
    orgId: row.org_id,
    type: row.type as IntegrationType,
    name: row.name,
    mapping: row.mapping === null ? null : (JSON.parse(row.mapping) as GenericMapping),
    tokenPrefix: row.token_prefix,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastUsedAt: row.last_used_at,
    disabledAt: row.disabled_at,
  };
}

export async function insertIntegration(
  db: Kysely<Schema>,
  integration: Integration,
  tokenHash: string,
): Promise<void> {
  await db
    .insertInto('integrations')
    .values({
      id: integration.id,
      org_id: integration.orgId,
      type: integration.type,
      name: integration.name,
      mapping: integration.mapping === null ? null : JSON.stringify(integration.mapping),
      token_hash: tokenHash,
      token_prefix: integration.tokenPrefix,
      created_at: integration.createdAt,
      updated_at: integration.updatedAt,
      last_used_at: integration.lastUsedAt,
      disabled_at: integration.disabledAt,
    })
    .execute();
}

export async function findIntegration(
  db: Kysely<Schema>,
  orgId: string,
  id: string,
): Promise<Integration | null> {
  const row = await db
    .selectFrom('integrations')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? integrationFromRow(row) : null;
}

/** A live (not disabled) integration of the organisation with this name, if any. */
export async function findLiveIntegrationByName(
  db: Kysely<Schema>,
  orgId: string,
  name: string,
): Promise<Integration | null> {
  const row = await db
    .selectFrom('integrations')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('name', '=', name)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return row ? integrationFromRow(row) : null;
}

/** The live integration whose token hashes to `tokenHash`, of any organisation. */
export async function findLiveIntegrationByToken(
  db: Kysely<Schema>,
  tokenHash: string,
): Promise<Integration | null> {
  const row = await db
    .selectFrom('integrations')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return row ? integrationFromRow(row) : null;
}

/** Newest first; disabled ones too (they stay for the record). */
export async function listIntegrations(db: Kysely<Schema>, orgId: string): Promise<Integration[]> {
  const rows = await db
    .selectFrom('integrations')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1000)
    .execute();
  return rows.map(integrationFromRow);
}

export async function disableIntegration(
  db: Kysely<Schema>,
  orgId: string,
  id: string,
  now: string,
): Promise<void> {
  await db
    .updateTable('integrations')
    .set({ disabled_at: now, updated_at: now })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute();
}

export async function replaceIntegrationToken(
  db: Kysely<Schema>,
  orgId: string,
  id: string,
  token: { hash: string; prefix: string },
  now: string,
): Promise<void> {
  await db
    .updateTable('integrations')
    .set({ token_hash: token.hash, token_prefix: token.prefix, updated_at: now })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute();
}

export async function touchIntegration(db: Kysely<Schema>, id: string, now: string): Promise<void> {
  await db.updateTable('integrations').set({ last_used_at: now }).where('id', '=', id).execute();
}
