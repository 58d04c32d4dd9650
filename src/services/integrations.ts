import { assertCan, type Actor } from '../core/actor.js';
import {
  AuthenticationError,
  IllegalStateError,
  NotFoundError,
  OperationalError,
  UserError,
  isFirebreakError,
} from '../core/errors.js';
import type { ObservableInput } from '../core/model.js';
import { normaliseObservable } from '../core/observable.js';
import type { ExtractedObservable, ReceivedEvent } from '../ingest/event-record.js';
import {
  mapWebhook,
  type AlertDraft,
  type GenericMapping,
  type Integration,
  type IntegrationType,
  type ItemError,
} from '../integrations/index.js';
import {
  disableIntegration as disableIntegrationRow,
  findIntegration,
  findLiveIntegrationByName,
  findLiveIntegrationByToken,
  insertIntegration,
  listIntegrations as listIntegrationRows,
  replaceIntegrationToken,
  touchIntegration,
} from '../storage/integration-repository.js';
import { ingestAlertIn, resolveAlertIn } from './alerts.js';
import { inTransaction, type ServiceContext } from './context.js';
import { randomSecret } from './passwords.js';

/** Integration tokens start with this; API tokens (`fbk_`) and integration tokens never open each other's routes. */
export const INTEGRATION_TOKEN_PREFIX = 'fbi_';
/** Observables kept per alert; more are dropped (a hostile payload cannot fan out without bound). */
const MAX_OBSERVABLES = 500;
/** Alerts and resolutions written per transaction. */
const WRITE_CHUNK = 200;

export interface IssuedIntegration {
  readonly integration: Integration;
  /** The token, shown once; only its SHA-256 is stored. */
  readonly secret: string;
}

function newToken(context: ServiceContext): { secret: string; hash: string; prefix: string } {
  const secret = `${INTEGRATION_TOKEN_PREFIX}${randomSecret(32)}`;
  return {
    secret,
    hash: context.sha256(secret),
    prefix: secret.slice(0, INTEGRATION_TOKEN_PREFIX.length + 6),
  };
}

/** The actor an integration's requests act as: it may record and resolve alerts, nothing else. */
export function integrationActor(integration: Integration): Actor {
  return {
    kind: 'integration',
    id: integration.id,
    name: integration.name,
    orgId: integration.orgId,
    role: 'responder',
  };
}

export interface CreateIntegrationInput {
  readonly type: IntegrationType;
  readonly name: string;
  /** Required for `generic` (already validated with GenericMappingSchema), refused for the others. */
  readonly mapping?: GenericMapping | undefined;
}

/**
 * Creates an integration of the admin's organisation and its token (`integration.created`).
 * Throws UserError `mapping_required` / `mapping_not_allowed` (field `mapping`) and `name_taken`
 * (409) when a live integration already has the name.
 */
export async function createIntegration(
  context: ServiceContext,
  actor: Actor,
  input: CreateIntegrationInput,
): Promise<IssuedIntegration> {
  assertCan(actor, 'admin');
  if (input.type === 'generic' && !input.mapping) {
    throw new UserError('mapping_required', 'a generic integration needs a mapping', { field: 'mapping' });
  }
  if (input.type !== 'generic' && input.mapping) {
    throw new UserError('mapping_not_allowed', `a ${input.type} integration takes no mapping`, {
      field: 'mapping',
    });
  }
  const token = newToken(context);
  return inTransaction(context, async (unit) => {
    if (await findLiveIntegrationByName(unit.tx, actor.orgId, input.name)) {
      throw new UserError('name_taken', `an integration named ${input.name} exists`, { field: 'name' });
    }
    const integration: Integration = {
      id: context.newId(),
      orgId: actor.orgId,
      type: input.type,
      name: input.name,
      mapping: input.mapping ?? null,
      tokenPrefix: token.prefix,
      createdAt: unit.now,
      updatedAt: unit.now,
      lastUsedAt: null,
      disabledAt: null,
    };
    await insertIntegration(unit.tx, integration, token.hash);
    await unit.audit({
      actor,
      action: 'integration.created',
      targetType: 'integration',
      targetId: integration.id,
      changes: {
        type: integration.type,
        name: integration.name,
        token_prefix: integration.tokenPrefix,
        mapping: integration.mapping,
      },
    });
    return { integration, secret: token.secret };
  });
}

export async function listIntegrations(context: ServiceContext, actor: Actor): Promise<Integration[]> {
  assertCan(actor, 'admin');
  return listIntegrationRows(context.database.db, actor.orgId);
}

/** Throws NotFoundError for an unknown id or another organisation's integration. */
export async function getIntegration(
  context: ServiceContext,
  actor: Actor,
  id: string,
): Promise<Integration> {
  assertCan(actor, 'admin');
  const integration = await findIntegration(context.database.db, actor.orgId, id);
  if (!integration) throw new NotFoundError('integration', id);
  return integration;
}

/** Disables the integration: its token stops working at once (`integration.disabled`). Idempotent. */
export async function disableIntegration(
  context: ServiceContext,
  actor: Actor,
  id: string,
): Promise<Integration> {
  assertCan(actor, 'admin');
  return inTransaction(context, async (unit) => {
    const integration = await findIntegration(unit.tx, actor.orgId, id);
    if (!integration) throw new NotFoundError('integration', id);
    if (integration.disabledAt) return integration;
    await disableIntegrationRow(unit.tx, actor.orgId, id, unit.now);
    await unit.audit({
      actor,
      action: 'integration.disabled',
      targetType: 'integration',
      targetId: id,
      changes: { name: integration.name, type: integration.type },
    });
    return { ...integration, disabledAt: unit.now, updatedAt: unit.now };
  });
}

/**
 * Replaces the integration's token; the old one stops working at once (`integration.token_rotated`).
 * Throws IllegalStateError `integration_disabled` for a disabled integration.
 */
export async function rotateIntegrationToken(
  context: ServiceContext,
  actor: Actor,
  id: string,
): Promise<IssuedIntegration> {
  assertCan(actor, 'admin');
  const token = newToken(context);
  return inTransaction(context, async (unit) => {
    const integration = await findIntegration(unit.tx, actor.orgId, id);
    if (!integration) throw new NotFoundError('integration', id);
    if (integration.disabledAt) {
      throw new IllegalStateError('integration_disabled', 'a disabled integration gets no new token', { id });
    }
    await replaceIntegrationToken(unit.tx, actor.orgId, id, token, unit.now);
    await unit.audit({
      actor,
      action: 'integration.token_rotated',
      targetType: 'integration',
      targetId: id,
      changes: { from_prefix: integration.tokenPrefix, token_prefix: token.prefix },
    });
    return {
      integration: { ...integration, tokenPrefix: token.prefix, updatedAt: unit.now },
      secret: token.secret,
    };
  });
}

/**
 * Resolves an integration token to its live integration and actor; records when it was last used
 * (at most once a minute). Throws AuthenticationError `invalid_token` for anything else, including
 * API tokens and the tokens of disabled integrations.
 */
export async function authenticateIntegration(
  context: ServiceContext,
  secret: string,
): Promise<{ integration: Integration; actor: Actor }> {
  if (!secret.startsWith(INTEGRATION_TOKEN_PREFIX)) {
    throw new AuthenticationError('invalid_token', 'webhooks take the integration token (fbi_...)');
  }
  const integration = await findLiveIntegrationByToken(context.database.db, context.sha256(secret));
  if (!integration) {
    throw new AuthenticationError('invalid_token', 'the integration token is not valid or was revoked');
  }
  const now = context.clock.now();
  if (!integration.lastUsedAt || now.getTime() - new Date(integration.lastUsedAt).getTime() > 60_000) {
    await touchIntegration(context.database.db, integration.id, now.toISOString());
  }
  return { integration, actor: integrationActor(integration) };
}

/** What a webhook post did; `errors` name the refused items by index. */
export interface WebhookOutcome {
  /** Items taken: alerts recorded, resolutions processed, events handed to the pipeline. */
  readonly accepted: number;
  /** Alerts recorded (new or counted on an existing one). */
  readonly alerts: number;
  /** Alerts marked resolved. */
  readonly resolved: number;
  /** Events handed to the ingestion pipeline. */
  readonly events: number;
  readonly errors: readonly ItemError[];
}

/** Normalises observables as written; an invalid one is skipped, duplicates once. Pure. */
export function normaliseExtracted(observables: readonly ExtractedObservable[]): ObservableInput[] {
  const seen = new Set<string>();
  const out: ObservableInput[] = [];
  for (const observable of observables) {
    if (out.length >= MAX_OBSERVABLES) break;
    let value: string;
    try {
      value = normaliseObservable(observable.type, observable.value);
    } catch {
      continue;
    }
    const key = `${observable.type}\u0000${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ type: observable.type, value });
  }
  return out;
}

/**
 * Takes what a sender posted to its integration's webhook: maps it, hands events to the ingestion
 * pipeline (all of them first, so a full backlog — RateLimitedError, 429 — refuses the post before
 * any alert is written), then records or resolves the alerts in order, 200 per transaction, audited
 * with the integration as actor. Bad items are reported by index while the others are kept. Throws
 * UserError (400) when the body is unreadable or no item was valid, OperationalError
 * `intake_unavailable` (503) when the only valid items were events and this process takes none.
 */
export async function receiveWebhook(
  context: ServiceContext,
  integration: Integration,
  body: string,
  meta: { readonly peer?: string | undefined } = {},
): Promise<WebhookOutcome> {
  const actor = integrationActor(integration);
  const now = context.clock.now().toISOString();
  const mapped = mapWebhook(integration, body, {
    integrationId: integration.id,
    integrationName: integration.name,
    now,
  });
  const errors: ItemError[] = [...mapped.errors];
  let alerts = 0;
  let resolved = 0;
  let resolutions = 0;
  let events = 0;

  const eventItems = mapped.items.filter((item) => item.kind === 'event');
  if (eventItems.length > 0) {
    if (!context.intake) {
      for (const item of eventItems) {
        errors.push({
          index: item.index,
          code: 'intake_unavailable',
          message:
            'this Firebreak process takes no events (event intake is not running); only alerts were kept',
        });
      }
    } else {
      const received: ReceivedEvent[] = eventItems.map((item) => ({
        id: context.newId(),
        orgId: integration.orgId,
        receivedAt: now,
        source: {
          kind: 'webhook',
          name: integration.name,
          ...(meta.peer ? { peer: meta.peer } : {}),
        },
        format: item.format,
        raw: item.raw as Record<string, unknown>,
      }));
      await context.intake.submit(received);
      events = received.length;
    }
  }

  // Alerts and resolutions are written in chunks, one transaction each: one flush per chunk
  // instead of one per alert, and a chunk commits whole or not at all.
  const writes = mapped.items.filter((item) => item.kind !== 'event');
  for (let start = 0; start < writes.length; start += WRITE_CHUNK) {
    const chunk = writes.slice(start, start + WRITE_CHUNK);
    const done = await inTransaction(context, async (unit) => {
      // The database may run this again (PostgreSQL deadlock retry): count from scratch each time.
      const counts = { alerts: 0, resolutions: 0, resolved: 0, errors: [] as ItemError[] };
      for (const item of chunk) {
        try {
          if (item.kind === 'alert') {
            await ingestAlertIn(unit, context, actor, alertInput(item.alert));
            counts.alerts += 1;
          } else if (item.kind === 'resolve') {
            const outcome = await resolveAlertIn(unit, actor, {
              dedupKey: item.dedupKey,
              resolvedAt: item.resolvedAt,
            });
            counts.resolutions += 1;
            if (outcome.resolved) counts.resolved += 1;
          }
        } catch (error) {
          // Only refusals raised before the item wrote anything (bad input) are per-item.
          if (!isFirebreakError(error) || error.kind !== 'user') throw error;
          const field = typeof error.details.field === 'string' ? error.details.field : undefined;
          counts.errors.push({
            index: item.index,
            code: error.code,
            message: error.message,
            ...(field ? { field } : {}),
          });
        }
      }
      return counts;
    });
    alerts += done.alerts;
    resolutions += done.resolutions;
    resolved += done.resolved;
    errors.push(...done.errors);
  }
  errors.sort((a, b) => a.index - b.index);
  const accepted = alerts + resolutions + events;
  if (accepted === 0 && errors.length > 0) {
    const first = errors[0]!;
    const details = { errors: errors.slice(0, 100), ...(first.field ? { field: first.field } : {}) };
    if (errors.every((e) => e.code === 'intake_unavailable')) {
      throw new OperationalError('intake_unavailable', first.message, details);
    }
    throw new UserError('invalid_payload', `item ${first.index}: ${first.message}`, details);
  }
  return { accepted, alerts, resolved, events, errors };
}

function alertInput(alert: AlertDraft) {
  return {
    title: alert.title,
    severity: alert.severity,
    source: alert.source,
    rule: alert.rule,
    dedupKey: alert.dedupKey,
    seenAt: alert.seenAt,
    description: alert.description,
    observables: normaliseExtracted(alert.observables),
    payload: alert.payload,
  };
}
