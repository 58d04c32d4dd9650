import { assertCan, systemActor, type Actor } from '../core/actor.js';
import type { ForbiddenError } from '../core/errors.js';
import { AuthenticationError, NotFoundError, RateLimitedError, UserError } from '../core/errors.js';
import type { ApiToken, Organization, User } from '../core/model.js';
import type { FailureRateLimiter } from '../core/rate-limiter.js';
import type { Role } from '../core/vocabulary.js';
import {
  countUsers,
  deleteSession,
  deleteUserSessions,
  findApiToken,
  findLiveSession,
  findLiveToken,
  findOrganizationBySlug,
  findUser,
  findUserByEmail,
  insertApiToken,
  insertOrganization,
  insertSession,
  insertUser,
  listApiTokens,
  listUsers as listUserRows,
  revokeApiToken,
  touchSession,
  touchToken,
  updateUser as updateUserRow,
} from '../storage/identity-repository.js';
import { inTransaction, type ServiceContext } from './context.js';
import { DUMMY_HASH_PROMISE, hashPassword, randomSecret, verifyPassword } from './passwords.js';

export const DEFAULT_ORG_SLUG = 'default';
export const TOKEN_PREFIX = 'fbk_';
export const MIN_PASSWORD_LENGTH = 12;

/** Creates the default organisation when missing; returns it. Idempotent. */
export async function ensureDefaultOrganization(context: ServiceContext): Promise<Organization> {
  const existing = await findOrganizationBySlug(context.database.db, DEFAULT_ORG_SLUG);
  return existing ?? createOrganization(context, 'Default organisation', DEFAULT_ORG_SLUG);
}

/** Creates another organisation (for providers serving several clients); audited in its own chain. */
export async function createOrganization(
  context: ServiceContext,
  name: string,
  slug: string,
): Promise<Organization> {
  if (await findOrganizationBySlug(context.database.db, slug)) {
    throw new UserError('slug_taken', `an organisation with slug ${slug} exists`, { field: 'slug' });
  }
  const org: Organization = { id: context.newId(), name, slug, createdAt: context.clock.now().toISOString() };
  return inTransaction(context, async (unit) => {
    await insertOrganization(unit.tx, org);
    await unit.audit({
      actor: systemActor(org.id),
      action: 'organization.created',
      targetType: 'organization',
      targetId: org.id,
      changes: { name, slug },
    });
    return org;
  });
}

export async function hasAnyUser(context: ServiceContext): Promise<boolean> {
  return (await countUsers(context.database.db)) > 0;
}

function assertPasswordStrength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UserError('weak_password', `password must have at least ${MIN_PASSWORD_LENGTH} characters`, {
      field: 'password',
    });
  }
}

export interface CreateUserInput {
  readonly email: string;
  readonly name?: string | undefined;
  readonly role: Role;
  readonly password?: string | undefined;
}

/** Creates a user in the actor's organisation (admins only); audits `user.created` without the password. */
export async function createUser(
  context: ServiceContext,
  actor: Actor,
  input: CreateUserInput,
): Promise<User> {
  assertCan(actor, 'admin');
  const email = input.email.trim().toLowerCase();
  if (input.password !== undefined) assertPasswordStrength(input.password);
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  return inTransaction(context, async (unit) => {
    if (await findUserByEmail(unit.tx, email)) {
      throw new UserError('email_taken', `a user with email ${email} exists`, { field: 'email' });
    }
    const user: User = {
      id: context.newId(),
      orgId: actor.orgId,
      email,
      name: input.name?.trim() || email,
      role: input.role,
      disabled: false,
      createdAt: unit.now,
      updatedAt: unit.now,
    };
    await insertUser(unit.tx, user, passwordHash);
    await unit.audit({
      actor,
      action: 'user.created',
      targetType: 'user',
      targetId: user.id,
      changes: { email, role: user.role, name: user.name },
    });
    return user;
  });
}

export async function listUsers(context: ServiceContext, actor: Actor): Promise<User[]> {
  assertCan(actor, 'read');
  return listUserRows(context.database.db, actor.orgId);
}

/** Changes a user's role, name, disabled flag or password (admins only). Disabling ends their sessions. */
export async function updateUser(
  context: ServiceContext,
  actor: Actor,
  id: string,
  patch: {
    name?: string | undefined;
    role?: Role | undefined;
    disabled?: boolean | undefined;
    password?: string | undefined;
  },
): Promise<User> {
  assertCan(actor, 'admin');
  if (patch.password !== undefined) assertPasswordStrength(patch.password);
  const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
  return inTransaction(context, async (unit) => {
    const user = await findUser(unit.tx, actor.orgId, id);
    if (!user) throw new NotFoundError('user', id);
    if (
      user.id === actor.userId &&
      (patch.disabled === true || (patch.role !== undefined && patch.role !== 'admin'))
    ) {
      throw new UserError('self_lockout', 'you cannot disable yourself or drop your own admin role', {
        field: patch.disabled ? 'disabled' : 'role',
      });
    }
    const updated: User = {
      ...user,
      name: patch.name ?? user.name,
      role: patch.role ?? user.role,
      disabled: patch.disabled ?? user.disabled,
      updatedAt: unit.now,
    };
    await updateUserRow(unit.tx, updated, passwordHash);
    if (updated.disabled || passwordHash !== undefined) await deleteUserSessions(unit.tx, user.id);
    await unit.audit({
      actor,
      action: 'user.updated',
      targetType: 'user',
      targetId: user.id,
      changes: {
        ...(patch.name !== undefined ? { name: { from: user.name, to: updated.name } } : {}),
        ...(patch.role !== undefined ? { role: { from: user.role, to: updated.role } } : {}),
        ...(patch.disabled !== undefined ? { disabled: { from: user.disabled, to: updated.disabled } } : {}),
        ...(passwordHash !== undefined ? { password: 'changed' } : {}),
      },
    });
    return updated;
  });
}

export interface IssuedToken {
  readonly token: ApiToken;
  /** The secret, shown once; only its hash is stored. */
  readonly secret: string;
}

/**
 * Issues an API token for a user of the actor's organisation. Admins may issue for anyone; others
 * only for themselves. The token acts with its owner's current role.
 */
export async function createApiToken(
  context: ServiceContext,
  actor: Actor,
  input: { userId: string; name: string; expiresAt?: string | undefined },
): Promise<IssuedToken> {
  if (input.userId !== actor.userId && input.userId !== actor.id) assertCan(actor, 'admin');
  const secret = `${TOKEN_PREFIX}${randomSecret(32)}`;
  return inTransaction(context, async (unit) => {
    const owner = await findUser(unit.tx, actor.orgId, input.userId);
    if (!owner) throw new NotFoundError('user', input.userId);
    if (input.expiresAt !== undefined && input.expiresAt <= unit.now) {
      throw new UserError('expiry_in_past', 'expires_at must be in the future', { field: 'expires_at' });
    }
    const token: ApiToken = {
      id: context.newId(),
      orgId: actor.orgId,
      userId: owner.id,
      name: input.name,
      prefix: secret.slice(0, TOKEN_PREFIX.length + 6),
      createdAt: unit.now,
      expiresAt: input.expiresAt ?? null,
      lastUsedAt: null,
      revokedAt: null,
    };
    await insertApiToken(unit.tx, token, context.sha256(secret));
    await unit.audit({
      actor,
      action: 'token.created',
      targetType: 'token',
      targetId: token.id,
      changes: { name: token.name, user_id: owner.id, prefix: token.prefix, expires_at: token.expiresAt },
    });
    return { token, secret };
  });
}

export async function listTokens(context: ServiceContext, actor: Actor): Promise<ApiToken[]> {
  assertCan(actor, 'read');
  const mine = actor.userId ?? actor.id;
  return listApiTokens(context.database.db, actor.orgId, actor.role === 'admin' ? undefined : mine);
}

/** Revokes a token at once; its owner or an admin may. */
export async function revokeToken(context: ServiceContext, actor: Actor, id: string): Promise<ApiToken> {
  return inTransaction(context, async (unit) => {
    const token = await findApiToken(unit.tx, actor.orgId, id);
    if (!token) throw new NotFoundError('token', id);
    if (token.userId !== (actor.userId ?? actor.id)) assertCan(actor, 'admin');
    if (token.revokedAt) return token;
    await revokeApiToken(unit.tx, actor.orgId, id, unit.now);
    await unit.audit({
      actor,
      action: 'token.revoked',
      targetType: 'token',
      targetId: id,
      changes: { name: token.name },
    });
    return { ...token, revokedAt: unit.now };
  });
}

export function actorForUser(user: User): Actor {
  return { kind: 'user', id: user.id, name: user.email, orgId: user.orgId, role: user.role, userId: user.id };
}

export interface SessionPolicy {
  /** Idle time after which a session ends. */
  readonly idleMinutes: number;
  /** Absolute lifetime of a session, however active. */
  readonly maxHours: number;
}

/** Failed sign-ins are counted per account and, separately, per client address (password spraying). */
export interface LoginThrottle {
  readonly account: FailureRateLimiter;
  readonly address: FailureRateLimiter;
}

export interface LoginResult {
  readonly user: User;
  /** Goes in the HttpOnly session cookie; only its hash is stored. */
  readonly sessionSecret: string;
  /** Must accompany cookie-authenticated writes in the `X-CSRF-Token` header. */
  readonly csrfToken: string;
  readonly expiresAt: string;
}

function minutesFrom(iso: string, minutes: number): string {
  return new Date(new Date(iso).getTime() + minutes * 60_000).toISOString();
}

/**
 * Checks email and password; on success opens a session. Failures are counted per account and per
 * address (RateLimitedError once either is exhausted) and audited as `auth.login_failed` in the
 * account's organisation, or the default one when the account does not exist. The error never says
 * which of email or password was wrong.
 */
export async function login(
  context: ServiceContext,
  throttle: LoginThrottle,
  policy: SessionPolicy,
  input: { email: string; password: string; address: string },
): Promise<LoginResult> {
  const email = input.email.trim().toLowerCase();
  const checks = [
    { limiter: throttle.account, key: email },
    { limiter: throttle.address, key: input.address },
  ];
  for (const { limiter, key } of checks) {
    const decision = limiter.check(key);
    if (!decision.allowed) {
      throw new RateLimitedError(
        'too_many_attempts',
        'too many failed sign-in attempts; try again later',
        decision.retryAfterSeconds,
      );
    }
  }
  const found = await findUserByEmail(context.database.db, email);
  const ok =
    found?.passwordHash && !found.user.disabled
      ? await verifyPassword(input.password, found.passwordHash)
      : (await verifyPassword(input.password, await DUMMY_HASH_PROMISE), false);
  if (!ok || !found) {
    for (const { limiter, key } of checks) limiter.fail(key);
    const orgId = found?.user.orgId ?? (await ensureDefaultOrganization(context)).id;
    await inTransaction(context, (unit) =>
      unit.audit({
        actor: { kind: 'system', id: 'anonymous', name: email.slice(0, 320), orgId, role: 'viewer' },
        action: 'auth.login_failed',
        targetType: 'user',
        targetId: found?.user.id ?? 'unknown',
        changes: {
          email: email.slice(0, 320),
          address: input.address,
          reason: found ? (found.user.disabled ? 'disabled' : 'bad_password') : 'unknown_user',
        },
      }),
    );
    throw new AuthenticationError('invalid_credentials', 'email or password is wrong');
  }
  throttle.account.reset(email);
  const user = found.user;
  const sessionSecret = randomSecret(32);
  const csrfToken = randomSecret(24);
  return inTransaction(context, async (unit) => {
    const expiresAt = minutesFrom(unit.now, policy.idleMinutes);
    await insertSession(unit.tx, {
      id: context.newId(),
      org_id: user.orgId,
      user_id: user.id,
      token_hash: context.sha256(sessionSecret),
      csrf_token: csrfToken,
      created_at: unit.now,
      expires_at: expiresAt,
      last_seen_at: unit.now,
    });
    await unit.audit({
      actor: actorForUser(user),
      action: 'auth.login',
      targetType: 'user',
      targetId: user.id,
      changes: { address: input.address },
    });
    return { user, sessionSecret, csrfToken, expiresAt };
  });
}

export interface Authenticated {
  readonly actor: Actor;
  readonly via: 'session' | 'token';
  readonly sessionId?: string;
  /** For sessions: the token writes must echo. */
  readonly csrfToken?: string;
  readonly expiresAt?: string | null;
}

/** Resolves a session cookie to its actor, sliding the idle expiry (at most once a minute). */
export async function authenticateSession(
  context: ServiceContext,
  policy: SessionPolicy,
  secret: string,
): Promise<Authenticated> {
  const now = context.clock.now().toISOString();
  const found = await findLiveSession(context.database.db, context.sha256(secret), now);
  if (!found) throw new AuthenticationError('session_expired', 'your session has ended; sign in again');
  const { session, user } = found;
  const hardLimit = minutesFrom(session.created_at, policy.maxHours * 60);
  if (hardLimit <= now)
    throw new AuthenticationError('session_expired', 'your session has ended; sign in again');
  let expiresAt = session.expires_at;
  if (new Date(now).getTime() - new Date(session.last_seen_at).getTime() > 60_000) {
    const slid = minutesFrom(now, policy.idleMinutes);
    expiresAt = slid < hardLimit ? slid : hardLimit;
    await touchSession(context.database.db, session.id, now, expiresAt);
  }
  return {
    actor: actorForUser(user),
    via: 'session',
    sessionId: session.id,
    csrfToken: session.csrf_token,
    expiresAt,
  };
}

/** Resolves a bearer token to an actor acting with its owner's role; records when it was last used. */
export async function authenticateToken(context: ServiceContext, secret: string): Promise<Authenticated> {
  if (!secret.startsWith(TOKEN_PREFIX))
    throw new AuthenticationError('invalid_token', 'the API token is not valid');
  const now = context.clock.now().toISOString();
  const found = await findLiveToken(context.database.db, context.sha256(secret), now);
  if (!found)
    throw new AuthenticationError('invalid_token', 'the API token is not valid, revoked or expired');
  const { token, user } = found;
  if (!token.lastUsedAt || new Date(now).getTime() - new Date(token.lastUsedAt).getTime() > 60_000) {
    await touchToken(context.database.db, token.id, now);
  }
  return {
    actor: {
      kind: 'token',
      id: token.id,
      name: `${token.name} (${user.email})`,
      orgId: user.orgId,
      role: user.role,
      userId: user.id,
    },
    via: 'token',
    expiresAt: token.expiresAt,
  };
}

export async function logout(context: ServiceContext, auth: Authenticated): Promise<void> {
  if (auth.via !== 'session' || !auth.sessionId) return;
  const sessionId = auth.sessionId;
  await inTransaction(context, async (unit) => {
    await deleteSession(unit.tx, sessionId);
    await unit.audit({
      actor: auth.actor,
      action: 'auth.logout',
      targetType: 'user',
      targetId: auth.actor.userId ?? auth.actor.id,
      changes: {},
    });
  });
}

/** Audits a refused request (`auth.denied`), then rethrows nothing: the caller answers 403. */
export async function recordDenial(
  context: ServiceContext,
  actor: Actor,
  error: ForbiddenError,
  request: { method: string; path: string },
): Promise<void> {
  await inTransaction(context, (unit) =>
    unit.audit({
      actor,
      action: 'auth.denied',
      targetType: 'route',
      targetId: `${request.method} ${request.path}`.slice(0, 500),
      changes: { code: error.code, role: actor.role },
    }),
  );
}

/** Finds a user of any organisation by email, for the CLI acting as the system. */
export async function findUserForCli(context: ServiceContext, email: string): Promise<User> {
  const found = await findUserByEmail(context.database.db, email);
  if (!found) throw new NotFoundError('user', email);
  return found.user;
}
