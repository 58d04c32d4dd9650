import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { ForbiddenError } from '../core/errors.js';
import type { ServiceContext } from '../services/context.js';
import { CredentialCache } from '../services/credential-cache.js';
import { recordDenial, type LoginThrottle, type SessionPolicy } from '../services/identity.js';
import { alertRoutes } from './alerts/routes.js';
import { authHook } from './auth-hook.js';
import { authRoutes } from './auth/routes.js';
import { detectionListRoutes } from './rules/lists.js';
import { eventRoutes } from './events/routes.js';
import { handleError } from './errors.js';
import { incidentRoutes } from './incidents/routes.js';
import { registerMetricsRoute, type MetricsRouteOptions } from './metrics-route.js';
import { detectionRoutes } from './rules/routes.js';
import { integrationRoutes } from './integrations/routes.js';
import { observableRoutes } from './observables/routes.js';
import { statsRoutes } from './stats/routes.js';
import { systemRoutes } from './system/routes.js';
import { userRoutes } from './users/routes.js';

export interface ApiOptions {
  readonly context: ServiceContext;
  readonly throttle: LoginThrottle;
  readonly policy: SessionPolicy;
  readonly secureCookies: boolean;
  readonly bodyLimit: number;
  readonly trustProxy: boolean;
  readonly version: string;
  readonly logger?: FastifyServerOptions['logger'];
  /** How long a resolved token or session is trusted without a lookup (0 disables the cache). */
  readonly credentialCacheMs?: number;
  /** The address senders reach Firebreak at, for integration webhook URLs; default: each request's own. */
  readonly publicUrl?: string | undefined;
  /** The built web console (index.html + assets); default `dist/web` of the package. */
  readonly webRoot?: string;
  /** Prometheus metrics at `/metrics`, opened by their own token (404 without one). */
  readonly metrics?: MetricsRouteOptions;
}

/** Where `npm run build:web` puts the console: two folders up from src/api or dist/api. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/**
 * The console's Content-Security-Policy: only its own scripts, styles and API; no inline script, no
 * framing, no plugins. React sets styles through the CSSOM, which style-src does not restrict.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const API_PREFIX = '/api/v1';

/** Builds the HTTP application: every route under /api/v1, validated at the edge, documented in OpenAPI 3.1. */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the API; presenters already shape the output, so serialise plainly
  // (the API tests parse real responses with the same schemas).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.decorateRequest('auth', null);
  const credentials = new CredentialCache(options.context.clock, options.credentialCacheMs ?? 5_000);
  options.context.listeners.add(credentials.onChange);
  app.addHook('onClose', async () => {
    options.context.listeners.delete(credentials.onChange);
  });

  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Firebreak API',
        version: options.version,
        description:
          'Incident response: alerts, incidents, lifecycle, observables and a verifiable audit trail.',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token (fbk_...)' },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'firebreak_session',
            description: 'Writes also need X-CSRF-Token',
          },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
    // Puts the schemas registered with an id (Incident, Alert, ...) under components.schemas.
    transformObject: jsonSchemaTransformObject,
  });

  // Answers hold incident data: never cache them, never sniff them, never frame them.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error instanceof ForbiddenError && request.auth && error.code !== 'csrf_failed') {
      await recordDenial(options.context, request.auth.actor, error, {
        method: request.method,
        path: request.routeOptions.url ?? request.url,
      }).catch((auditError: unknown) =>
        request.log.error({ err: auditError }, 'could not audit a permission denial'),
      );
    }
    return handleError(error, request, reply);
  });
  const consoleBuilt = existsSync(path.join(options.webRoot ?? DEFAULT_WEB_ROOT, 'index.html'));
  app.setNotFoundHandler((request, reply) => {
    const pathname = request.url.split('?')[0]!;
    // The console routes in the browser: any other page address gets the app, which shows the page.
    if (
      consoleBuilt &&
      (request.method === 'GET' || request.method === 'HEAD') &&
      !pathname.startsWith('/api/') &&
      !pathname.startsWith('/assets/')
    ) {
      return reply.type('text/html; charset=utf-8').sendFile('index.html');
    }
    return reply.status(404).send({
      error: {
        code: 'route_not_found',
        message: `no route ${request.method} ${pathname}`,
      },
    });
  });

  await registerConsole(app, options.webRoot ?? DEFAULT_WEB_ROOT, options.version);
  registerMetricsRoute(app, options.metrics ?? {});

  await app.register(
    async (api) => {
      api.addHook('onRequest', authHook(options.context, options.policy, credentials));
      await api.register(systemRoutes(options.context, options.version));
      await api.register(authRoutes(options.context, options));
      await api.register(incidentRoutes(options.context));
      await api.register(alertRoutes(options.context));
      await api.register(detectionRoutes(options.context));
      await api.register(detectionListRoutes(options.context));
      await api.register(integrationRoutes(options.context, options));
      await api.register(observableRoutes(options.context));
      await api.register(userRoutes(options.context));
      await api.register(eventRoutes(options.context));
      await api.register(statsRoutes(options.context));
    },
    { prefix: API_PREFIX },
  );
  await app.ready();
  return app;
}

/**
 * Serves the built console at `/` (hashed assets cached for good, the page itself revalidated) with a
 * strict CSP on every non-API answer. Without a build, `/` explains how to make one.
 */
async function registerConsole(app: FastifyInstance, webRoot: string, version: string): Promise<void> {
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/api/')) return;
    reply.header('content-security-policy', CONSOLE_CSP);
    if (request.url.startsWith('/assets/') && reply.statusCode === 200) {
      reply.header('cache-control', 'public, max-age=31536000, immutable');
    } else if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('cache-control', 'no-cache');
    }
  });
  if (!existsSync(path.join(webRoot, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(LANDING_PAGE(version)),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: webRoot,
    prefix: '/',
    wildcard: true,
    index: 'index.html',
    cacheControl: false,
    dotfiles: 'ignore',
    schemaHide: true,
  });
}

const LANDING_PAGE = (version: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Firebreak</title>
</head>
<body><h1>Firebreak ${version.replace(/[^0-9A-Za-z.+-]/g, '')}</h1>
<p>The incident response API is running under <code>/api/v1</code>.</p>
<ul><li>Health: <a href="/api/v1/health">/api/v1/health</a></li>
<li>API description (OpenAPI 3.1): <a href="/api/v1/openapi.json">/api/v1/openapi.json</a></li>
<li>Sign in with <code>POST /api/v1/auth/login</code>; the first administrator's password is in
<code>DATA_DIR/initial-admin-password</code>.</li></ul>
<p>The web console is not built: run <code>npm run build</code> (or <code>npm run build:web</code>).</p></body></html>`;
