import { listOf, TokenWire, UserWire } from '../wire-schemas.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServiceContext } from '../../services/context.js';
import {
  createApiToken,
  createUser,
  listTokens,
  listUsers,
  revokeToken,
  updateUser,
} from '../../services/identity.js';
import { authOf } from '../auth-hook.js';
import { presentToken, presentUser } from '../presenters.js';
import { ERRORS, Id, IdParams, Role, Timestamp, Title } from '../schemas.js';

export function userRoutes(context: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/users',
      {
        schema: {
          tags: ['users'],
          summary: 'Users of the organisation',
          response: { 200: listOf(UserWire), ...ERRORS },
        },
      },
      async (request) => ({
        items: (await listUsers(context, authOf(request).actor)).map(presentUser),
      }),
    );

    app.post(
      '/users',
      {
        schema: {
          tags: ['users'],
          summary: 'Create a user (admin)',
          response: { 201: UserWire, ...ERRORS },
          body: z.strictObject({
            email: z.email().max(320),
            name: Title(200).optional(),
            role: Role,
            password: z.string().min(1).max(1024).optional(),
          }),
        },
      },
      async (request, reply) => {
        const user = await createUser(context, authOf(request).actor, request.body);
        return reply.status(201).send(presentUser(user));
      },
    );

    app.patch(
      '/users/:id',
      {
        schema: {
          tags: ['users'],
          summary: 'Change role, name, password or disable (admin)',
          response: { 200: UserWire, ...ERRORS },
          params: IdParams,
          body: z
            .strictObject({
              name: Title(200),
              role: Role,
              disabled: z.boolean(),
              password: z.string().min(1).max(1024),
            })
            .partial(),
        },
      },
      async (request) =>
        presentUser(await updateUser(context, authOf(request).actor, request.params.id, request.body)),
    );

    app.get(
      '/tokens',
      {
        schema: {
          tags: ['tokens'],
          summary: 'API tokens (yours; all for admins)',
          response: { 200: listOf(TokenWire), ...ERRORS },
        },
      },
      async (request) => ({
        items: (await listTokens(context, authOf(request).actor)).map(presentToken),
      }),
    );

    app.post(
      '/tokens',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Issue an API token; the secret is shown once',
          response: { 201: TokenWire, ...ERRORS },
          body: z.strictObject({
            name: Title(200),
            user_id: Id.optional(),
            expires_at: Timestamp.optional(),
          }),
        },
      },
      async (request, reply) => {
        const actor = authOf(request).actor;
        const issued = await createApiToken(context, actor, {
          userId: request.body.user_id ?? actor.userId ?? actor.id,
          name: request.body.name,
          expiresAt: request.body.expires_at,
        });
        return reply.status(201).send({ ...presentToken(issued.token), token: issued.secret });
      },
    );

    app.delete(
      '/tokens/:id',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Revoke a token',
          response: { 200: TokenWire, ...ERRORS },
          params: IdParams,
        },
      },
      async (request) => presentToken(await revokeToken(context, authOf(request).actor, request.params.id)),
    );
  };
}
