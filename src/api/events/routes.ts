import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { batchKindOf, decodeBatch, type BatchError } from '../../ingest/batch-body.js';
import { FORMAT_HINTS } from '../../ingest/event-record.js';
import type { ServiceContext } from '../../services/context.js';
import { searchEvents, submitEvents } from '../../services/events.js';
import type { StoredEvent } from '../../storage/event-repository.js';
import { authOf } from '../auth-hook.js';
import { Cursor, ERRORS, ErrorResponse, Timestamp } from '../schemas.js';

const tags = ['events'];
const inflate = promisify(gunzip);

/** A posted batch, compressed or not, may be this large; a gzip body may inflate to four times that. */
export const EVENT_BATCH_LIMIT = 16 * 1024 * 1024;
const INFLATED_LIMIT = 4 * EVENT_BATCH_LIMIT;
/** Line errors listed in one answer; the count covers them all. */
const MAX_LISTED_ERRORS = 100;

const SourceName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w.:@/-]+$/, 'letters, digits and . _ - : @ / only');

/**
 * A sender's idempotency key: the same key on a retry of the same batch. Printable ASCII without
 * spaces (a UUID is the usual choice), at most 200 characters.
 */
const IdempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces only');

export const EventWire = z
  .object({
    id: z.string(),
    received_at: z.string(),
    timestamp: z.string(),
    source: z.object({ kind: z.string(), name: z.string().nullable(), peer: z.string().nullable() }),
    format: z.string(),
    parser: z.string(),
    fields: z.record(z.string(), z.unknown()),
    raw: z.union([z.string(), z.record(z.string(), z.unknown())]),
  })
  .meta({ id: 'Event' });

function presentEvent(event: StoredEvent): z.infer<typeof EventWire> {
  return {
    id: event.id,
    received_at: event.receivedAt,
    timestamp: event.timestamp,
    source: event.source,
    format: event.format,
    parser: event.parser,
    fields: event.fields,
    raw: event.raw,
  };
}

function tooLarge(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 413 });
}

async function bodyBytes(body: Buffer, encoding: string | undefined): Promise<Buffer> {
  const coding = (encoding ?? 'identity').trim().toLowerCase();
  if (coding === 'identity' || coding === '') return body;
  if (coding !== 'gzip' && coding !== 'x-gzip') {
    throw Object.assign(new Error(`content-encoding ${coding} is not supported (use gzip)`), {
      statusCode: 415,
    });
  }
  try {
    // maxOutputLength stops a gzip bomb before it is inflated in memory.
    return await inflate(body, { maxOutputLength: INFLATED_LIMIT });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge(`the body inflates beyond ${INFLATED_LIMIT} bytes; send smaller batches`);
    }
    throw new UserError('invalid_gzip', `body: not valid gzip (${(error as Error).message})`, {
      field: 'body',
    });
  }
}

export function eventRoutes(context: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    // This plugin reads its bodies itself (NDJSON, JSON arrays, text, gzip), as raw bytes.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: EVENT_BATCH_LIMIT },
      (_request, body, done) => done(null, body),
    );

    app.post(
      '/events',
      {
        bodyLimit: EVENT_BATCH_LIMIT,
        schema: {
          tags,
          summary: 'Send events: NDJSON, a JSON array or text lines, optionally gzip-compressed',
          description:
            'Content-Type application/x-ndjson (one JSON object per line), application/json (an array of ' +
            'objects) or text/plain (one raw line per event, e.g. syslog). Content-Encoding gzip is accepted. ' +
            'Answers 202 once the valid lines are on disk; each invalid line is listed with its number and ' +
            'the others are kept. 400 when no line is valid, 413 over 16 MiB (or 64 MiB inflated), 429 with ' +
            'Retry-After while the spool is full. With an Idempotency-Key header, a retry of a batch the ' +
            'server already took stores nothing and answers the first count with duplicate: true (503 for a ' +
            'moment after a restart, while the server finishes storing what it took before).',
          querystring: z.strictObject({
            format: z.enum(FORMAT_HINTS).default('auto'),
            source: SourceName.optional(),
          }),
          headers: z.object({ 'idempotency-key': IdempotencyKey.optional() }),
          response: {
            202: z.object({
              accepted: z.number().int(),
              rejected: z.number().int(),
              errors: z.array(z.object({ line: z.number().int(), error: z.string() })),
              duplicate: z
                .boolean()
                .describe(
                  'true when a submission with the same Idempotency-Key was taken before: nothing was stored again',
                ),
            }),
            ...ERRORS,
            413: ErrorResponse.describe('body too large'),
            415: ErrorResponse.describe('unsupported content type or encoding'),
            429: ErrorResponse.describe('the spool is full; retry after Retry-After seconds'),
            503: ErrorResponse.describe('this process takes no events'),
          },
        },
      },
      async (request, reply) => {
        const auth = authOf(request);
        const kind = batchKindOf(request.headers['content-type']);
        if (kind === null) {
          throw Object.assign(
            new Error('content-type must be application/x-ndjson, application/json or text/plain'),
            { statusCode: 415 },
          );
        }
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const body = await bodyBytes(raw, request.headers['content-encoding']);
        const batch = decodeBatch(kind, body);
        const errors: BatchError[] = batch.errors;
        if (batch.items.length === 0) {
          const first = errors[0];
          throw new UserError(
            'no_valid_events',
            first ? `body: no valid event (line ${first.line}: ${first.error})` : 'body: no events',
            { field: 'body', errors: errors.slice(0, MAX_LISTED_ERRORS) },
          );
        }
        const format =
          request.query.format === 'auto' && kind === 'text' ? ('auto' as const) : request.query.format;
        const outcome = await submitEvents(
          context,
          auth.actor,
          batch.items.map((item) => item.raw),
          {
            kind: 'http',
            name: request.query.source,
            peer: `${request.ip}`,
            format,
          },
          request.headers['idempotency-key'],
        );
        reply.status(202);
        return {
          accepted: outcome.accepted,
          rejected: errors.length,
          errors: errors.slice(0, MAX_LISTED_ERRORS),
          duplicate: outcome.duplicate,
        };
      },
    );

    app.get(
      '/events',
      {
        schema: {
          tags,
          summary: 'Search received events by time range and field values',
          description:
            'q: space-separated terms, all must hold: `field:value` (normalised ECS field, case-insensitive, ' +
            '`*` wildcard, any element of an array), `field:"a value"`, `-field:value` (must not), a bare ' +
            'word or "a phrase" (the raw event contains it). Newest first.',
          querystring: z.strictObject({
            q: z.string().max(2000).optional(),
            from: Timestamp.optional(),
            to: Timestamp.optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
            cursor: Cursor,
          }),
          response: {
            200: z.object({ items: z.array(EventWire), next_cursor: z.string().nullable() }),
            ...ERRORS,
          },
        },
      },
      async (request) => {
        const page = await searchEvents(context, authOf(request).actor, request.query);
        return { items: page.items.map(presentEvent), next_cursor: page.nextCursor };
      },
    );
  };
}
