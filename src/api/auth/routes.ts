import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServiceContext } from '../../services/context.js';
import { login, logout, type LoginThrottle, type SessionPolicy } from '../../services/identity.js';
import { authOf, SESSION_COOKIE } from '../auth-hook.js';
import { presentUser } from '../presenters.js';

const tags = ['auth'];

export interface AuthRouteOptions {
  readonly throttle: LoginThrottle;
  readonly policy: SessionPolicy;
  readonly secureCookies: boolean;
}

export function authRoutes(context: ServiceContext, options: AuthRouteOptions): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/auth/login',
      {
        config: { public: true },
        schema: {
          tags,
          summary: 'Sign in; sets the session cookie and returns the CSRF token for writes',
          body: z.strictObject({
            email: z.string().trim().min(1).max(320),
            password: z.string().min(1).max(1024),
          }),
        },
      },
      async (request, reply) => {
        const result = await login(context, options.throttle, options.policy, {
          email: request.body.email,
          password: request.body.password,
          address: request.ip,
        });
        reply.setCookie(SESSION_COOKIE, result.sessionSecret, {
          httpOnly: true,
          sameSite: 'strict',
          secure: options.secureCookies,
          path: '/',
          maxAge: options.policy.maxHours * 3600,
        });
        return { user: presentUser(result.user), csrf_token: result.csrfToken, expires_at: result.expiresAt };
      },
    );

    app.post(
      '/auth/logout',
      { schema: { tags, summary: 'Sign out (ends the session)' } },
      async (request, reply) => {
        await logout(context, authOf(request));
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.status(204).send();
      },
    );

    app.get(
      '/auth/session',
      { schema: { tags, summary: 'Who am I; the CSRF token of this session' } },
      async (request) => {
        const auth = authOf(request);
        return {
          actor: {
            kind: auth.actor.kind,
            id: auth.actor.id,
            name: auth.actor.name,
            role: auth.actor.role,
            user_id: auth.actor.userId ?? null,
          },
          via: auth.via,
          csrf_token: auth.csrfToken ?? null,
          expires_at: auth.expiresAt ?? null,
        };
      },
    );
  };
}
