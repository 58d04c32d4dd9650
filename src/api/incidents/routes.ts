import {
  IncidentWire,
  NoteWire,
  ObservableWire,
  TaskWire,
  TimelineEntryWire,
  listOf,
  pageOf,
  AlertSummaryWire,
} from '../wire-schemas.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { mergeAlerts } from '../../services/alerts.js';
import type { ServiceContext } from '../../services/context.js';
import {
  addNote,
  addObservable,
  createTask,
  editNote,
  listNotes,
  listObservables,
  listTasks,
  updateTask,
} from '../../services/incident-work.js';
import {
  acknowledgeIncident,
  createIncident,
  getIncident,
  incidentTimeline,
  listIncidents,
  transition,
  updateIncident,
} from '../../services/incidents.js';
import { listAlerts } from '../../services/alerts.js';
import { authOf } from '../auth-hook.js';
import {
  presentAuditEntry,
  presentIncident,
  presentNote,
  presentObservable,
  presentTask,
  presentAlertSummary,
} from '../presenters.js';
import { ERRORS, IdParams } from '../schemas.js';
import {
  AddObservableBody,
  CreateIncidentBody,
  CreateTaskBody,
  ListIncidentsQuery,
  MergeAlertsBody,
  NoteBody,
  NoteParams,
  TaskParams,
  TimelineQuery,
  TransitionBody,
  UpdateIncidentBody,
  UpdateTaskBody,
} from './schema.js';

const tags = ['incidents'];

/** Incidents and the work inside them. Thin handlers: parse, call a service, present. */
export function incidentRoutes(context: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/incidents',
      {
        schema: {
          tags,
          summary: 'Open an incident',
          response: { 201: IncidentWire, ...ERRORS },
          body: CreateIncidentBody,
        },
      },
      async (request, reply) => {
        const body = request.body;
        const incident = await createIncident(context, authOf(request).actor, {
          title: body.title,
          severity: body.severity,
          category: body.category,
          description: body.description,
          personalData: body.personal_data,
          tlp: body.tlp,
          assigneeId: body.assignee_id,
          detectedAt: body.detected_at,
        });
        return reply.status(201).send(presentIncident(incident));
      },
    );

    app.get(
      '/incidents',
      {
        schema: {
          tags,
          summary: 'List incidents (keyset pages)',
          response: { 200: pageOf(IncidentWire), ...ERRORS },
          querystring: ListIncidentsQuery,
        },
      },
      async (request) => {
        const q = request.query;
        const page = await listIncidents(context, authOf(request).actor, {
          phases: q.phase,
          severities: q.severity,
          categories: q.category,
          assigneeId: q.assignee_id,
          q: q.q,
          sort: q.sort,
          order: q.order,
          limit: q.limit,
          cursor: q.cursor,
        });
        return { items: page.items.map(presentIncident), next_cursor: page.nextCursor };
      },
    );

    app.get(
      '/incidents/:id',
      {
        schema: {
          tags,
          summary: 'One incident',
          response: { 200: IncidentWire, ...ERRORS },
          params: IdParams,
        },
      },
      async (request) =>
        presentIncident(await getIncident(context, authOf(request).actor, request.params.id)),
    );

    app.patch(
      '/incidents/:id',
      {
        schema: {
          tags,
          summary: 'Edit an incident',
          response: { 200: IncidentWire, ...ERRORS },
          params: IdParams,
          body: UpdateIncidentBody,
        },
      },
      async (request) => {
        const b = request.body;
        const incident = await updateIncident(context, authOf(request).actor, request.params.id, {
          title: b.title,
          description: b.description,
          severity: b.severity,
          category: b.category,
          tlp: b.tlp,
          assigneeId: b.assignee_id,
          personalData: b.personal_data,
          detectedAt: b.detected_at,
        });
        return presentIncident(incident);
      },
    );

    app.post(
      '/incidents/:id/acknowledge',
      {
        schema: {
          tags,
          summary: 'Acknowledge (take ownership)',
          response: { 200: IncidentWire, ...ERRORS },
          params: IdParams,
        },
      },
      async (request) =>
        presentIncident(await acknowledgeIncident(context, authOf(request).actor, request.params.id)),
    );

    app.post(
      '/incidents/:id/transitions',
      {
        schema: {
          tags,
          summary: 'Move to another phase',
          response: { 200: IncidentWire, ...ERRORS },
          params: IdParams,
          body: TransitionBody,
        },
      },
      async (request) => {
        const b = request.body;
        const incident = await transition(context, authOf(request).actor, request.params.id, {
          to: b.to,
          reason: b.reason,
          resolution: b.resolution,
          reviewSummary: b.review_summary,
        });
        return presentIncident(incident);
      },
    );

    app.get(
      '/incidents/:id/timeline',
      {
        schema: {
          tags,
          summary: 'The incident timeline, from the audit chain',
          response: { 200: pageOf(TimelineEntryWire), ...ERRORS },
          params: IdParams,
          querystring: TimelineQuery,
        },
      },
      async (request) => {
        const page = await incidentTimeline(context, authOf(request).actor, request.params.id, {
          afterSeq: request.query.cursor ? Number(request.query.cursor) : 0,
          limit: request.query.limit,
        });
        return {
          items: page.items.map(presentAuditEntry),
          next_cursor: page.nextAfterSeq === null ? null : String(page.nextAfterSeq),
        };
      },
    );

    app.post(
      '/incidents/:id/alerts',
      {
        schema: {
          tags,
          summary: 'Merge alerts into the incident',
          response: { 200: IncidentWire, ...ERRORS },
          params: IdParams,
          body: MergeAlertsBody,
        },
      },
      async (request) =>
        presentIncident(
          await mergeAlerts(context, authOf(request).actor, request.params.id, request.body.alert_ids),
        ),
    );

    app.get(
      '/incidents/:id/alerts',
      {
        schema: {
          tags,
          summary: 'Alerts linked to the incident',
          response: { 200: pageOf(AlertSummaryWire), ...ERRORS },
          params: IdParams,
          querystring: z.strictObject({
            limit: z.coerce.number().int().min(1).max(500).default(100),
            cursor: z.string().max(1000).optional(),
          }),
        },
      },
      async (request) => {
        const actor = authOf(request).actor;
        await getIncident(context, actor, request.params.id);
        const page = await listAlerts(context, actor, {
          incidentId: request.params.id,
          sort: 'created_at',
          order: 'asc',
          limit: request.query.limit,
          cursor: request.query.cursor,
        });
        return { items: page.items.map(presentAlertSummary), next_cursor: page.nextCursor };
      },
    );

    app.get(
      '/incidents/:id/observables',
      {
        schema: {
          tags,
          summary: 'Observables, with sightings in other incidents',
          response: { 200: listOf(ObservableWire), ...ERRORS },
          params: IdParams,
        },
      },
      async (request) => ({
        items: (await listObservables(context, authOf(request).actor, request.params.id)).map(
          presentObservable,
        ),
      }),
    );

    app.post(
      '/incidents/:id/observables',
      {
        schema: {
          tags,
          summary: 'Add an observable',
          response: { 201: ObservableWire, ...ERRORS },
          params: IdParams,
          body: AddObservableBody,
        },
      },
      async (request, reply) => {
        const observable = await addObservable(
          context,
          authOf(request).actor,
          request.params.id,
          request.body,
        );
        return reply.status(201).send(presentObservable(observable));
      },
    );

    app.get(
      '/incidents/:id/tasks',
      {
        schema: { tags, summary: 'Tasks', response: { 200: listOf(TaskWire), ...ERRORS }, params: IdParams },
      },
      async (request) => ({
        items: (await listTasks(context, authOf(request).actor, request.params.id)).map(presentTask),
      }),
    );

    app.post(
      '/incidents/:id/tasks',
      {
        schema: {
          tags,
          summary: 'Add a task',
          response: { 201: TaskWire, ...ERRORS },
          params: IdParams,
          body: CreateTaskBody,
        },
      },
      async (request, reply) => {
        const task = await createTask(context, authOf(request).actor, request.params.id, {
          title: request.body.title,
          description: request.body.description,
          assigneeId: request.body.assignee_id,
        });
        return reply.status(201).send(presentTask(task));
      },
    );

    app.patch(
      '/incidents/:id/tasks/:taskId',
      {
        schema: {
          tags,
          summary: 'Edit or complete a task',
          response: { 200: TaskWire, ...ERRORS },
          params: TaskParams,
          body: UpdateTaskBody,
        },
      },
      async (request) => {
        const b = request.body;
        const task = await updateTask(
          context,
          authOf(request).actor,
          request.params.id,
          request.params.taskId,
          {
            title: b.title,
            description: b.description,
            status: b.status,
            assigneeId: b.assignee_id,
          },
        );
        return presentTask(task);
      },
    );

    app.get(
      '/incidents/:id/notes',
      {
        schema: {
          tags,
          summary: 'Notes (Markdown)',
          response: { 200: listOf(NoteWire), ...ERRORS },
          params: IdParams,
        },
      },
      async (request) => ({
        items: (await listNotes(context, authOf(request).actor, request.params.id)).map(presentNote),
      }),
    );

    app.post(
      '/incidents/:id/notes',
      {
        schema: {
          tags,
          summary: 'Add a note',
          response: { 201: NoteWire, ...ERRORS },
          params: IdParams,
          body: NoteBody,
        },
      },
      async (request, reply) => {
        const note = await addNote(context, authOf(request).actor, request.params.id, request.body.body);
        return reply.status(201).send(presentNote(note));
      },
    );

    app.patch(
      '/incidents/:id/notes/:noteId',
      {
        schema: {
          tags,
          summary: 'Edit your note',
          response: { 200: NoteWire, ...ERRORS },
          params: NoteParams,
          body: NoteBody,
        },
      },
      async (request) =>
        presentNote(
          await editNote(
            context,
            authOf(request).actor,
            request.params.id,
            request.params.noteId,
            request.body.body,
          ),
        ),
    );
  };
}
