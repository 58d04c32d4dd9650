import { assertCan, type Actor } from '../core/actor.js';
import { OperationalError } from '../core/errors.js';
import { parseEventQuery } from '../core/event-query.js';
import type { FormatHint, ReceivedEvent, SourceKind, SubmissionOutcome } from '../ingest/event-record.js';
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
 *
 * With `key` (the sender's idempotency key) the events are taken only if no submission of this
 * organisation with that key was taken before; otherwise nothing is stored and the first one's count
 * is answered with `duplicate: true`.
 */
export async function submitEvents(
  context: ServiceContext,
  actor: Actor,
  raws: ReadonlyArray<string | Record<string, unknown>>,
  origin: EventOrigin,
  key?: string,
): Promise<SubmissionOutcome> {
  assertCan(actor, 'write');
  const intake = context.intake;
  if (!intake) {
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
  if (key === undefined || events.length === 0) {
    if (events.length > 0) await intake.submit(events);
    return { accepted: events.length, duplicate: false };
  }
  const gate = context.submissions;
  if (!gate) throw new OperationalError('intake_unavailable', 'this server process does not take events');
  return gate.once(actor.orgId, key, async () => {
    // The key travels with the first event, so the pipeline records it with the events.
    events[0] = { ...events[0]!, submission: { key, events: events.length } };
    await intake.submit(events);
    return events.length;
  });
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
