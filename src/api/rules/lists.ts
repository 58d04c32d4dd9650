import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServiceContext } from '../../services/context.js';
import {
  deleteDetectionList,
  getDetectionList,
  listDetectionLists,
  MAX_LIST_ENTRIES,
  putDetectionList,
  type DetectionList,
} from '../../services/detection-lists.js';
import { authOf } from '../auth-hook.js';
import { ERRORS } from '../schemas.js';

const tags = ['rules'];
const ListParams = z.strictObject({ name: z.string().min(1).max(64) });

const DetectionListWire = z
  .object({
    name: z.string(),
    placeholder: z.string().describe('how rules refer to it with the expand modifier'),
    description: z.string(),
    entries: z.array(z.string()),
    updated_by: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'DetectionList' });

function presentList(list: DetectionList): z.infer<typeof DetectionListWire> {
  return {
    name: list.name,
    placeholder: `%${list.name}%`,
    description: list.description,
    entries: [...list.entries],
    updated_by: list.updatedBy,
    updated_at: list.updatedAt,
  };
}

/** Value lists for `expand` placeholders (known-bad addresses and the like). */
export function detectionListRoutes(context: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/detection/lists',
      {
        schema: {
          tags,
          summary: 'Value lists that fill rule placeholders',
          response: { 200: z.object({ items: z.array(DetectionListWire) }), ...ERRORS },
        },
      },
      async (request) => ({
        items: (await listDetectionLists(context, authOf(request).actor)).map(presentList),
      }),
    );

    app.get(
      '/detection/lists/:name',
      {
        schema: {
          tags,
          summary: 'One value list',
          params: ListParams,
          response: { 200: DetectionListWire, ...ERRORS },
        },
      },
      async (request) =>
        presentList(await getDetectionList(context, authOf(request).actor, request.params.name)),
    );

    app.put(
      '/detection/lists/:name',
      {
        bodyLimit: 16 * 1024 * 1024,
        schema: {
          tags,
          summary: 'Create or replace a value list (e.g. firebreak_blocklist_ips); rules using it recompile',
          params: ListParams,
          body: z.strictObject({
            entries: z.array(z.string().max(512)).max(MAX_LIST_ENTRIES),
            description: z.string().max(1000).optional(),
          }),
          response: { 200: DetectionListWire, ...ERRORS },
        },
      },
      async (request) =>
        presentList(
          await putDetectionList(context, authOf(request).actor, request.params.name, request.body),
        ),
    );

    app.delete(
      '/detection/lists/:name',
      {
        schema: {
          tags,
          summary: 'Delete a value list',
          params: ListParams,
          response: { 204: z.null(), ...ERRORS },
        },
      },
      async (request, reply) => {
        await deleteDetectionList(context, authOf(request).actor, request.params.name);
        return reply.status(204).send(null);
      },
    );
  };
}
