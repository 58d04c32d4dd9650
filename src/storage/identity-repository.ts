import type { Kysely } from 'kysely';
import type { ApiToken, Organization, User } from '../core/model.js';
import type { Role } from '../core/vocabulary.js';
import { apiTokenFromRow, organizationFromRow, userFromRow } from './rows.js';
import type { Schema, SessionTable } from './schema.js';

/** Organisations, users, sessions and API tokens: who may act, and how they prove it. */

export async function findOrganizationBySlug(db: Kysely<Schema>, slug: string): Promise<Organization | null> {
  const row = await db.selectFrom('organizations').selectAll().where('slug', '=', slug).executeTakeFirst();
  return row ? organizationFromRow(row) : null;
}

export async function listOrganizations(db: Kysely<Schema>): Promise<Organization[]> {
  const rows = await db.selectFrom('organizations').selectAll().orderBy('created_at').execute();
  return rows.map(organizationFromRow);
}

export async function insertOrganization(db: Kysely<Schema>, org: Organization): Promise<void> {
  await db
    .insertInto('organizations')
    .values({ id: org.id, name: org.name, slug: org.slug, created_at: org.createdAt })
    .execute();
}

export interface UserWithSecret {
  readonly user: User;
  readonly passwordHash: string | null;
}

export async function findUserByEmail(db: Kysely<Schema>, email: string): Promise<UserWithSecret | null> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', email.toLowerCase())
    .executeTakeFirst();
  return row ? { user: userFromRow(row), passwordHash: row.password_hash } : null;
}

export async function findUser(db: Kysely<Schema>, orgId: string, id: string): Promise<User | null> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? userFromRow(row) : null;
}

export async function listUsers(db: Kysely<Schema>, orgId: string): Promise<User[]> {
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('email')
    .execute();
  return rows.map(userFromRow);
}

export async function countUsers(db: Kysely<Schema>): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertUser(db: Kysely<Schema>, user: User, passwordHash: string | null): Promise<void> {
  await db
    .insertInto('users')
    .values({
      id: user.id,
      org_id: user.orgId,
      email: user.email,
      name: user.name,
      role: user.role,
      password_hash: passwordHash,
      disabled: user.disabled ? 1 : 0,
      created_at: user.createdAt,
      updated_at: user.updatedAt,
    })
    .execute();
}

export async function updateUser(db: Kysely<Schema>, user: User, passwordHash?: string): Promise<void> {
  await db
    .updateTable('users')
    .set({
      name: user.name,
      role: user.role satisfies Role,
      disabled: user.disabled ? 1 : 0,
      updated_at: user.updatedAt,
      ...(passwordHash === undefined ? {} : { password_hash: passwordHash }),
    })
    .where('org_id', '=', user.orgId)
    .where('id', '=', user.id)
    .execute();
}

export async function insertSession(db: Kysely<Schema>, session: SessionTable): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

/** A live session and its user, or null when unknown, expired, or the user is disabled. */
export async function findLiveSession(
  db: Kysely<Schema>,
  tokenHash: string,
  now: string,
): Promise<{ session: SessionTable; user: User } | null> {
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .selectAll('u')
    .select([
      's.id as session_id',
      's.token_hash as session_token_hash',
      's.csrf_token as session_csrf_token',
      's.created_at as session_created_at',
      's.expires_at as session_expires_at',
      's.last_seen_at as session_last_seen_at',
    ])
    .where('s.token_hash', '=', tokenHash)
    .where('s.expires_at', '>', now)
    .where('u.disabled', '=', 0)
    .executeTakeFirst();
  if (!row) return null;
  return {
    user: userFromRow(row),
    session: {
      id: row.session_id,
      org_id: row.org_id,
      user_id: row.id,
      token_hash: row.session_token_hash,
      csrf_token: row.session_csrf_token,
      created_at: row.session_created_at,
      expires_at: row.session_expires_at,
      last_seen_at: row.session_last_seen_at,
    },
  };
}

export async function touchSession(
  db: Kysely<Schema>,
  id: string,
  lastSeenAt: string,
  expiresAt: string,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: lastSeenAt, expires_at: expiresAt })
    .where('id', '=', id)
    .execute();
}

export async function deleteSession(db: Kysely<Schema>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

export async function deleteUserSessions(db: Kysely<Schema>, userId: string): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

export async function deleteExpiredSessions(db: Kysely<Schema>, now: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function insertApiToken(db: Kysely<Schema>, token: ApiToken, tokenHash: string): Promise<void> {
  await db
    .insertInto('api_tokens')
    .values({
      id: token.id,
      org_id: token.orgId,
      user_id: token.userId,
      name: token.name,
      prefix: token.prefix,
      token_hash: tokenHash,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
      last_used_at: token.lastUsedAt,
      revoked_at: token.revokedAt,
    })
    .execute();
}

/** A usable token and its owner, or null when unknown, revoked, expired, or the owner is disabled. */
export async function findLiveToken(
  db: Kysely<Schema>,
  tokenHash: string,
  now: string,
): Promise<{ token: ApiToken; user: User } | null> {
  const row = await db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .selectAll('u')
    .select([
      't.id as token_id',
      't.name as token_name',
      't.prefix as token_prefix',
      't.created_at as token_created_at',
      't.expires_at as token_expires_at',
      't.last_used_at as token_last_used_at',
      't.revoked_at as token_revoked_at',
    ])
    .where('t.token_hash', '=', tokenHash)
    .where('t.revoked_at', 'is', null)
    .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', now)]))
    .where('u.disabled', '=', 0)
    .executeTakeFirst();
  if (!row) return null;
  return {
    user: userFromRow(row),
    token: {
      id: row.token_id,
      orgId: row.org_id,
      userId: row.id,
      name: row.token_name,
      prefix: row.token_prefix,
      createdAt: row.token_created_at,
      expiresAt: row.token_expires_at,
      lastUsedAt: row.token_last_used_at,
      revokedAt: row.token_revoked_at,
    },
  };
}

export async function touchToken(db: Kysely<Schema>, id: string, at: string): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}

export async function listApiTokens(db: Kysely<Schema>, orgId: string, userId?: string): Promise<ApiToken[]> {
  let query = db.selectFrom('api_tokens').selectAll().where('org_id', '=', orgId);
  if (userId) query = query.where('user_id', '=', userId);
  const rows = await query.orderBy('created_at', 'desc').execute();
  return rows.map(apiTokenFromRow);
}

export async function findApiToken(db: Kysely<Schema>, orgId: string, id: string): Promise<ApiToken | null> {
  const row = await db
    .selectFrom('api_tokens')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? apiTokenFromRow(row) : null;
}

export async function revokeApiToken(
  db: Kysely<Schema>,
  orgId: string,
  id: string,
  at: string,
): Promise<void> {
  await db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}
