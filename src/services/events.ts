import { assertCan, type Actor } from '../core/actor.js';
import { OperationalError } from '../core/errors.js';
import { parseEventQuery } from '../core/event-query.js';
import type { FormatHint, ReceivedEvent, SourceKind } from '../ingest/event-record.js';
import { searchEvents as searchStoredEvents, type StoredEvent } from '../storage/event-repository.js';
import type { ServiceContext } from './context.js';

export interface EventOrigin {
  readonly kind: SourceKind;
  readonly name?: string | undefined;
  readonly peer?: string | undefined;
  readonly format: FormatHint;
}

/**
 * Hands received events to the durable intake and resolves once they are on disk. Each gets its id
 * and receive time here, at the edge. Rejects with RateLimitedError when the spool is full (nothing
 * of the call was taken).
 */
export async function submitEvents(
  context: ServiceContext,
  actor: Actor,
  raws: ReadonlyArray<string | Record<string, unknown>>,
  origin: EventOrigin,
): Promise<number> {
  assertCan(actor, 'write');
  if (!context.intake) {
    throw new OperationalError('intake_unavailable', 'this server process does not take events');
  }
  const receivedAt = context.clock.now().toISOString();
  const source = {
    kind: origin.kind,
    ...(origin.name ? { name: origin.name } : {}),
    ...(origin.peer ? { peer: origin.peer } : {}),
  };
  const events: ReceivedEvent[] = raws.map((raw) => ({
    id: context.newId(),
    orgId: actor.orgId,
    receivedAt,
    source,
    format: origin.format,
    raw,
  }));
  if (events.length > 0) await context.intake.submit(events);
  return events.length;
}

export interface EventSearchParams {
  readonly q?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export async function searchEvents(
  context: ServiceContext,
  actor: Actor,
  params: EventSearchParams,
): Promise<{ items: StoredEvent[]; nextCursor: string | null }> {
  assertCan(actor, 'read');
  return searchStoredEvents(context.database.db, context.database.dialect, {
    orgId: actor.orgId,
    terms: params.q ? parseEventQuery(params.q) : [],
    from: params.from,
    to: params.to,
    limit: params.limit,
    cursor: params.cursor,
  });
}
