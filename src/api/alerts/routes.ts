import {
  AlertWire,
  IncidentWire,
  ObservableWire,
  listOf,
  pageOf,
  AlertSummaryWire,
} from '../wire-schemas.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALERT_SORTS } from '../../storage/alert-repository.js';
import { changeAlertStatus, getAlert, ingestAlert, listAlerts, promoteAlert } from '../../services/alerts.js';
import type { ServiceContext } from '../../services/context.js';
import { alertObservables } from '../../services/incident-work.js';
import { authOf } from '../auth-hook.js';
import { presentAlert, presentIncident, presentObservable, presentAlertSummary } from '../presenters.js';
import {
  AlertStatus,
  BoolQuery,
  Category,
  csvOf,
  Cursor,
  DismissReason,
  ERRORS,
  Id,
  IdParams,
  Limit,
  ObservableType,
  Order,
  Severity,
  Timestamp,
  Title,
} from '../schemas.js';

const tags = ['alerts'];

const CreateAlertBody = z.strictObject({
  title: Title(),
  severity: Severity,
  source: z.string().trim().min(1).max(200),
  rule: z.string().trim().min(1).max(500).optional(),
  dedup_key: z.string().min(1).max(500).optional(),
  seen_at: Timestamp.optional(),
  observables: z
    .array(z.strictObject({ type: ObservableType, value: z.string().min(1).max(8192) }))
    .max(500)
    .optional(),
  payload: z.unknown().optional(),
});

const ListAlertsQuery = z.strictObject({
  status: csvOf(AlertStatus),
  severity: csvOf(Severity),
  source: z.string().max(200).optional(),
  rule: z.string().max(500).optional(),
  incident_id: Id.optional(),
  unlinked: BoolQuery.optional(),
  q: z.string().trim().max(200).optional(),
  sort: z.enum(ALERT_SORTS).default('created_at'),
  order: Order,
  limit: Limit,
  cursor: Cursor,
});

const PromoteBody = z
  .strictObject({
    title: Title().optional(),
    severity: Severity.optional(),
    category: Category.optional(),
    alert_ids: z.array(Id).max(1000).optional(),
  })
  .nullish();

const StatusBody = z.strictObject({
  alert_ids: z.array(Id).min(1, 'name at least one alert').max(1000),
  status: z.enum(['new', 'acknowledged', 'dismissed']),
  reason: DismissReason.optional(),
  comment: z.string().max(10_000).optional(),
});

export function alertRoutes(context: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/alerts',
      {
        schema: {
          tags,
          summary: 'Record an alert (a repeated dedup_key counts instead of creating)',
          response: {
            201: AlertWire.extend({ deduplicated: z.boolean() }),
            200: AlertWire.extend({ deduplicated: z.boolean() }),
            ...ERRORS,
          },
          body: CreateAlertBody,
        },
      },
      async (request, reply) => {
        const b = request.body;
        const { alert, created } = await ingestAlert(context, authOf(request).actor, {
          title: b.title,
          severity: b.severity,
          source: b.source,
          rule: b.rule,
          dedupKey: b.dedup_key,
          seenAt: b.seen_at,
          observables: b.observables,
          payload: b.payload,
        });
        return reply.status(created ? 201 : 200).send({ ...presentAlert(alert), deduplicated: !created });
      },
    );

    app.get(
      '/alerts',
      {
        schema: {
          tags,
          summary: 'List alerts (keyset pages)',
          response: { 200: pageOf(AlertSummaryWire), ...ERRORS },
          querystring: ListAlertsQuery,
        },
      },
      async (request) => {
        const q = request.query;
        const page = await listAlerts(context, authOf(request).actor, {
          statuses: q.status,
          severities: q.severity,
          source: q.source,
          rule: q.rule,
          incidentId: q.incident_id,
          unlinked: q.unlinked,
          q: q.q,
          sort: q.sort,
          order: q.order,
          limit: q.limit,
          cursor: q.cursor,
        });
        return { items: page.items.map(presentAlertSummary), next_cursor: page.nextCursor };
      },
    );

    app.get(
      '/alerts/:id',
      {
        schema: {
          tags,
          summary: 'One alert with its observables',
          response: { 200: AlertWire.extend({ observables: z.array(ObservableWire) }), ...ERRORS },
          params: IdParams,
        },
      },
      async (request) => {
        const actor = authOf(request).actor;
        const alert = await getAlert(context, actor, request.params.id);
        const observables = await alertObservables(context, actor, alert.id);
        return { ...presentAlert(alert), observables: observables.map(presentObservable) };
      },
    );

    app.post(
      '/alerts/:id/promote',
      {
        schema: {
          tags,
          summary: 'Open a new incident from the alert',
          response: { 201: IncidentWire, ...ERRORS },
          params: IdParams,
          body: PromoteBody,
        },
      },
      async (request, reply) => {
        const b = request.body ?? {};
        const incident = await promoteAlert(context, authOf(request).actor, request.params.id, {
          title: b.title,
          severity: b.severity,
          category: b.category,
          alertIds: b.alert_ids,
        });
        return reply.status(201).send(presentIncident(incident));
      },
    );

    app.post(
      '/alerts/status',
      {
        schema: {
          tags,
          summary: 'Acknowledge, dismiss or reopen alerts in bulk',
          response: { 200: listOf(AlertWire), ...ERRORS },
          body: StatusBody,
        },
      },
      async (request) => {
        const b = request.body;
        const alerts = await changeAlertStatus(context, authOf(request).actor, b.alert_ids, {
          status: b.status,
          reason: b.reason,
          comment: b.comment,
        });
        return { items: alerts.map(presentAlert) };
      },
    );
  };
}
