import { timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticationError, ForbiddenError } from '../core/errors.js';
import {
  authenticateSession,
  authenticateToken,
  recordDenial,
  type Authenticated,
  type SessionPolicy,
} from '../services/identity.js';
import type { ServiceContext } from '../services/context.js';
import type { CredentialCache } from '../services/credential-cache.js';

export const SESSION_COOKIE = 'firebreak_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated | null;
  }
  interface FastifyContextConfig {
    /** Route needs no credentials (health, sign-in, the OpenAPI document). */
    public?: boolean;
    /**
     * Route takes only an integration token and authenticates it itself (integration webhooks);
     * API tokens and sessions are not accepted there, and integration tokens nowhere else.
     */
    integrationWebhook?: boolean;
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Authenticates every non-public route: a bearer token, or the session cookie plus, for writes, the
 * session's CSRF token in `X-CSRF-Token` (cookies ride along on cross-site requests; the header does not).
 */
export function authHook(context: ServiceContext, policy: SessionPolicy, cache: CredentialCache) {
  async function cached(
    kind: string,
    secret: string,
    resolve: () => Promise<Authenticated>,
  ): Promise<Authenticated> {
    const key = `${kind}:${context.sha256(secret)}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const auth = await resolve();
    cache.set(key, auth);
    return auth;
  }
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    request.auth = null;
    if (request.routeOptions.config.public || request.routeOptions.config.integrationWebhook) return;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
      if (!match) throw new AuthenticationError('invalid_token', 'Authorization must be "Bearer <token>"');
      const secret = match[1]!;
      request.auth = await cached('token', secret, () => authenticateToken(context, secret));
      return;
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (!cookie) throw new AuthenticationError('unauthenticated', 'sign in or send an API token');
    const auth = await cached('session', cookie, () => authenticateSession(context, policy, cookie));
    request.auth = auth;
    if (!SAFE_METHODS.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !auth.csrfToken || !sameSecret(sent, auth.csrfToken)) {
        const error = new ForbiddenError(
          'csrf_failed',
          'missing or wrong X-CSRF-Token header for a cookie-authenticated write',
        );
        await recordDenial(context, auth.actor, error, {
          method: request.method,
          path: request.routeOptions.url ?? request.url,
        });
        throw error;
      }
    }
  };
}

/** The authenticated caller; routes behind the hook always have one. */
export function authOf(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new AuthenticationError('unauthenticated', 'sign in or send an API token');
  return request.auth;
}
