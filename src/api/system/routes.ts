import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { assertCan } from '../../core/actor.js';
import { verifyAuditChains, describeProblem } from '../../services/audit.js';
import type { DomainEvent, ServiceContext } from '../../services/context.js';
import { authOf } from '../auth-hook.js';

/** Bytes an event-stream client may leave unread before it is disconnected. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export function systemRoutes(context: ServiceContext, version: string): FastifyPluginAsyncZod {
  return async (app) => {
    // Streams are hijacked from Fastify, so end them ourselves or shutdown would wait for clients.
    const openStreams = new Set<ServerResponse>();
    app.addHook('preClose', async () => {
      for (const stream of openStreams) stream.end();
    });

    app.get(
      '/health',
      {
        config: { public: true },
        schema: { tags: ['system'], summary: 'Liveness and database reachability' },
      },
      async (_request, reply) => {
        try {
          await sql`select 1`.execute(context.database.db);
          return { status: 'ok', version, database: context.database.dialect };
        } catch {
          return reply
            .status(503)
            .send({ status: 'unavailable', version, database: context.database.dialect });
        }
      },
    );

    app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

    app.get(
      '/audit/verify',
      { schema: { tags: ['audit'], summary: "Recompute the organisation's audit hash chain (admin)" } },
      async (request) => {
        const actor = authOf(request).actor;
        assertCan(actor, 'admin');
        const report = (await verifyAuditChains(context)).find((r) => r.orgId === actor.orgId);
        return {
          ok: report?.problem === null,
          records: report?.records ?? 0,
          head_seq: report?.headSeq ?? 0,
          problem: report?.problem
            ? {
                kind: report.problem.kind,
                message: describeProblem(report.problem),
                record_id: 'entry' in report.problem ? report.problem.entry.id : null,
              }
            : null,
        };
      },
    );

    app.get(
      '/stream',
      {
        schema: {
          tags: ['system'],
          summary: 'Server-sent events: every committed change in your organisation',
        },
      },
      (request, reply) => {
        const actor = authOf(request).actor;
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        raw.write('retry: 3000\n\n');
        const send = (text: string) => {
          // A client that stops reading is cut off (it reconnects) rather than growing our memory.
          if (raw.writableLength > MAX_BUFFERED_BYTES) raw.end();
          else raw.write(text);
        };
        const listener = (event: DomainEvent) => {
          if (event.orgId !== actor.orgId) return;
          send(
            `event: change\ndata: ${JSON.stringify({ action: event.action, target: { type: event.targetType, id: event.targetId }, incident_id: event.incidentId, at: event.at })}\n\n`,
          );
        };
        const keepAlive = setInterval(() => send(': keep-alive\n\n'), 25_000);
        context.listeners.add(listener);
        openStreams.add(raw);
        request.raw.on('close', () => {
          clearInterval(keepAlive);
          context.listeners.delete(listener);
          openStreams.delete(raw);
        });
      },
    );
  };
}
