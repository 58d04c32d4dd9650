import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/** What `GET /metrics` serves (server/metrics.ts); the API knows only this shape. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

export interface MetricsRouteOptions {
  readonly source?: MetricsSource | undefined;
  /** The scrape secret (FIREBREAK_METRICS_TOKEN); without one the route answers 404. */
  readonly token?: string | undefined;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * `GET /metrics` for Prometheus, outside the API's sign-in: metrics describe the whole process (all
 * organisations' volumes), so they are not given to any organisation's users; a scrape secret of
 * their own opens them (`Authorization: Bearer <token>`, compared in constant time).
 */
export function registerMetricsRoute(app: FastifyInstance, options: MetricsRouteOptions): void {
  const expected = options.token ? digest(options.token) : null;
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!expected || !options.source) {
      return reply.status(404).send({
        error: { code: 'metrics_disabled', message: 'set FIREBREAK_METRICS_TOKEN to serve /metrics' },
      });
    }
    const header = request.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!timingSafeEqual(digest(presented), expected)) {
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: { code: 'unauthenticated', message: 'the metrics token is missing or wrong' } });
    }
    return reply.type(options.source.contentType).send(await options.source.render());
  });
}
