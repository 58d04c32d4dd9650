import { LookupWire, ObservableWire } from '../wire-schemas.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServiceContext } from '../../services/context.js';
import { lookup, updateObservable } from '../../services/incident-work.js';
import { authOf } from '../auth-hook.js';
import { presentLookupHit, presentObservable } from '../presenters.js';
import { ERRORS, IdParams, ObservableType, Tlp } from '../schemas.js';

const tags = ['observables'];

export function observableRoutes(context: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/observables/lookup',
      {
        schema: {
          tags,
          summary: 'Which incidents and alerts saw this value?',
          response: { 200: LookupWire, ...ERRORS },
          querystring: z.strictObject({
            type: ObservableType,
            value: z.string().min(1).max(8192),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
          }),
        },
      },
      async (request) => {
        const q = request.query;
        const result = await lookup(context, authOf(request).actor, q.type, q.value, q.limit);
        return {
          observable: result.observable ? presentObservable(result.observable) : null,
          incidents: result.hits.filter((h) => h.kind === 'incident').map(presentLookupHit),
          alerts: result.hits.filter((h) => h.kind === 'alert').map(presentLookupHit),
          events: result.events
            ? {
                count: result.events.count,
                first_seen: result.events.firstSeen,
                last_seen: result.events.lastSeen,
                last_event_id: result.events.lastEventId,
              }
            : null,
        };
      },
    );

    app.patch(
      '/observables/:id',
      {
        schema: {
          tags,
          summary: 'Mark as IOC, relabel TLP, describe',
          response: { 200: ObservableWire, ...ERRORS },
          params: IdParams,
          body: z.strictObject({ ioc: z.boolean(), tlp: Tlp, description: z.string().max(10_000) }).partial(),
        },
      },
      async (request) =>
        presentObservable(
          await updateObservable(context, authOf(request).actor, request.params.id, request.body),
        ),
    );
  };
}
