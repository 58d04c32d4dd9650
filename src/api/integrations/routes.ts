import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AuthenticationError, ForbiddenError } from '../../core/errors.js';
import type { Integration } from '../../integrations/index.js';
import type { ServiceContext } from '../../services/context.js';
import {
  authenticateIntegration,
  createIntegration,
  disableIntegration,
  getIntegration,
  listIntegrations,
  receiveWebhook,
  rotateIntegrationToken,
  type WebhookOutcome,
} from '../../services/integrations.js';
import { authOf } from '../auth-hook.js';
import { ERRORS, ErrorResponse, IdParams } from '../schemas.js';
import { listOf } from '../wire-schemas.js';
import { CreateIntegrationBody, IntegrationWire, WebhookAnswer } from './schema.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The integration whose token opened this webhook request. */
    integration: Integration | null;
  }
}

export interface IntegrationRouteOptions {
  /** The address senders reach Firebreak at (`https://firebreak.example.org`); default: the request's own. */
  readonly publicUrl?: string | undefined;
}

const tags = ['integrations'];
const BEARER = /^Bearer ([A-Za-z0-9_-]{1,200})$/;

/** Where a sender posts: the configured public address, or the one this request came to. */
function webhookUrl(request: FastifyRequest, options: IntegrationRouteOptions, id: string): string {
  const route = request.routeOptions.url ?? '';
  const prefix = route.slice(0, Math.max(0, route.indexOf('/integrations')));
  const base = options.publicUrl?.replace(/\/+$/, '') ?? `${request.protocol}://${request.host}`;
  return `${base}${prefix}/integrations/${id}/webhook`;
}

function present(request: FastifyRequest, options: IntegrationRouteOptions, integration: Integration) {
  return {
    id: integration.id,
    type: integration.type,
    name: integration.name,
    url: webhookUrl(request, options, integration.id),
    token_prefix: integration.tokenPrefix,
    mapping: integration.mapping,
    created_at: integration.createdAt,
    updated_at: integration.updatedAt,
    last_used_at: integration.lastUsedAt,
    disabled_at: integration.disabledAt,
  };
}

function presentOutcome(outcome: WebhookOutcome) {
  return {
    accepted: outcome.accepted,
    alerts: outcome.alerts,
    resolved: outcome.resolved,
    events: outcome.events,
    errors: outcome.errors.map((e) => ({
      index: e.index,
      code: e.code,
      error: e.message,
      ...(e.field === undefined ? {} : { field: e.field }),
    })),
  };
}

/**
 * Integrations (admin) and their webhooks. The webhook route is authenticated here, by the
 * integration's own token only; the token of one integration opens no other.
 */
export function integrationRoutes(
  context: ServiceContext,
  options: IntegrationRouteOptions = {},
): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/integrations',
      {
        schema: {
          tags,
          summary: 'Create an alert webhook integration (admin); the token is shown once',
          response: { 201: IntegrationWire, ...ERRORS },
          body: CreateIntegrationBody,
        },
      },
      async (request, reply) => {
        const issued = await createIntegration(context, authOf(request).actor, request.body);
        return reply
          .status(201)
          .send({ ...present(request, options, issued.integration), token: issued.secret });
      },
    );

    app.get(
      '/integrations',
      {
        schema: {
          tags,
          summary: 'Integrations of the organisation, newest first (admin)',
          response: { 200: listOf(IntegrationWire), ...ERRORS },
        },
      },
      async (request) => ({
        items: (await listIntegrations(context, authOf(request).actor)).map((i) =>
          present(request, options, i),
        ),
      }),
    );

    app.get(
      '/integrations/:id',
      {
        schema: {
          tags,
          summary: 'One integration (admin)',
          response: { 200: IntegrationWire, ...ERRORS },
          params: IdParams,
        },
      },
      async (request) =>
        present(request, options, await getIntegration(context, authOf(request).actor, request.params.id)),
    );

    app.delete(
      '/integrations/:id',
      {
        schema: {
          tags,
          summary: 'Disable an integration: its token stops working (admin)',
          response: { 200: IntegrationWire, ...ERRORS },
          params: IdParams,
        },
      },
      async (request) =>
        present(
          request,
          options,
          await disableIntegration(context, authOf(request).actor, request.params.id),
        ),
    );

    app.post(
      '/integrations/:id/rotate-token',
      {
        schema: {
          tags,
          summary: 'Replace the token; the old one stops working (admin)',
          response: { 200: IntegrationWire, ...ERRORS },
          params: IdParams,
        },
      },
      async (request) => {
        const issued = await rotateIntegrationToken(context, authOf(request).actor, request.params.id);
        return { ...present(request, options, issued.integration), token: issued.secret };
      },
    );

    // The webhook takes the body as text whatever its type (JSON, NDJSON, text/plain), so one
    // sender's framing never decides whether a post is readable; the mapper reads it.
    await app.register(async (hook) => {
      hook.decorateRequest('integration', null);
      hook.removeAllContentTypeParsers();
      hook.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
      hook.post(
        '/integrations/:id/webhook',
        {
          config: { integrationWebhook: true },
          schema: {
            tags,
            summary:
              'Receive alerts (and, for Suricata, events) from the sender: Authorization: Bearer <integration token>',
            security: [{ bearer: [] }],
            params: IdParams,
            body: z.string().describe('JSON, a JSON array, or NDJSON (Suricata, Wazuh, generic)'),
            response: {
              202: WebhookAnswer,
              ...ERRORS,
              413: ErrorResponse.describe('body larger than the limit'),
              429: ErrorResponse.describe('the event backlog is full; retry after Retry-After'),
              503: ErrorResponse.describe('events sent to a process that takes none'),
            },
          },
          onRequest: async (request) => {
            const match = BEARER.exec(request.headers.authorization ?? '');
            if (!match) {
              throw new AuthenticationError(
                'invalid_token',
                'send the integration token: Authorization: Bearer fbi_...',
              );
            }
            const { integration } = await authenticateIntegration(context, match[1]!);
            const id = (request.params as { id?: unknown }).id;
            if (integration.id !== id) {
              throw new ForbiddenError('wrong_integration', 'this token belongs to another integration');
            }
            request.integration = integration;
          },
        },
        async (request, reply) => {
          const integration = request.integration;
          if (!integration) throw new AuthenticationError('invalid_token', 'no integration token');
          const body = typeof request.body === 'string' ? request.body : '';
          const outcome = await receiveWebhook(context, integration, body, { peer: request.ip });
          return reply.status(202).send(presentOutcome(outcome));
        },
      );
    });
  };
}
