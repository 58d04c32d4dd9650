import { assertCan, type Actor } from '../core/actor.js';
import { ForbiddenError, IllegalStateError, NotFoundError } from '../core/errors.js';
import { applyPatch } from '../core/field-changes.js';
import type { Incident, Note, Observable, ObservableInput, Task } from '../core/model.js';
import { normaliseObservable } from '../core/observable.js';
import type { ObservableType, TaskStatus, Tlp } from '../core/vocabulary.js';
import { saveIncident } from '../storage/incident-repository.js';
import {
  listAlertObservables,
  listIncidentObservables,
  lookupObservable,
  recordSighting,
  updateObservable as updateObservableRow,
  type LookupHit,
} from '../storage/observable-repository.js';
import { findEventSighting, type EventSighting } from '../storage/event-repository.js';
import {
  findNote,
  findTask,
  listNotes as listNoteRows,
  listTasks as listTaskRows,
  nextTaskPosition,
  saveNote,
  saveTask,
} from '../storage/work-repository.js';
import { requireAlert } from './alerts.js';
import { inTransaction, type ServiceContext, type UnitOfWork } from './context.js';
import { assertAssignable, requireIncident } from './incidents.js';

/** Observables, tasks and notes: the work recorded inside an incident. */

async function requireOpenIncident(unit: UnitOfWork, actor: Actor, id: string): Promise<Incident> {
  const incident = await requireIncident(unit.tx, actor, id);
  if (incident.phase === 'closed') {
    throw new IllegalStateError('incident_closed', 'a closed incident cannot be changed; reopen it first', {
      id,
    });
  }
  return incident;
}

/** Touches the incident's updated_at so lists sorted by activity show it. */
async function touch(unit: UnitOfWork, incident: Incident): Promise<void> {
  await saveIncident(unit.tx, { ...incident, updatedAt: unit.now });
}

export interface AddObservableInput extends ObservableInput {
  readonly ioc?: boolean | undefined;
  readonly tlp?: Tlp | undefined;
  readonly description?: string | undefined;
}

/** Adds (or re-sights) an observable in an incident; audits `incident.observable_added` once per value. */
export async function addObservable(
  context: ServiceContext,
  actor: Actor,
  incidentId: string,
  input: AddObservableInput,
): Promise<Observable> {
  assertCan(actor, 'write');
  const value = normaliseObservable(input.type, input.value);
  return inTransaction(context, async (unit) => {
    const incident = await requireOpenIncident(unit, actor, incidentId);
    const { observable, linked } = await recordSighting(unit.tx, context.newId, {
      orgId: actor.orgId,
      type: input.type,
      value,
      seenAt: unit.now,
      ioc: input.ioc,
      tlp: input.tlp,
      description: input.description,
      incidentId,
    });
    let result = observable;
    if (input.ioc !== undefined || input.tlp !== undefined || input.description !== undefined) {
      result = (await updateObservableRow(unit.tx, actor.orgId, observable.id, input)) ?? observable;
    }
    if (linked) {
      await touch(unit, incident);
      await unit.audit({
        actor,
        action: 'incident.observable_added',
        targetType: 'observable',
        targetId: observable.id,
        incidentId,
        changes: { type: input.type, value, ioc: result.ioc, tlp: result.tlp },
      });
    }
    return result;
  });
}

export async function listObservables(
  context: ServiceContext,
  actor: Actor,
  incidentId: string,
): Promise<Array<Observable & { otherIncidents: number }>> {
  assertCan(actor, 'read');
  await requireIncident(context.database.db, actor, incidentId);
  return listIncidentObservables(context.database.db, actor.orgId, incidentId);
}

export async function alertObservables(
  context: ServiceContext,
  actor: Actor,
  alertId: string,
): Promise<Observable[]> {
  assertCan(actor, 'read');
  await requireAlert(context.database.db, actor, alertId);
  return listAlertObservables(context.database.db, actor.orgId, alertId);
}

/** Marks an observable as an IOC or not, relabels its TLP or description; audits `observable.updated`. */
export async function updateObservable(
  context: ServiceContext,
  actor: Actor,
  id: string,
  patch: { ioc?: boolean | undefined; tlp?: Tlp | undefined; description?: string | undefined },
): Promise<Observable> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    const after = await updateObservableRow(unit.tx, actor.orgId, id, patch);
    if (!after) throw new NotFoundError('observable', id);
    await unit.audit({
      actor,
      action: 'observable.updated',
      targetType: 'observable',
      targetId: id,
      changes: patch,
    });
    return after;
  });
}

/** Where else a value was seen. The value is normalised first, so any spelling finds the record. */
export async function lookup(
  context: ServiceContext,
  actor: Actor,
  type: ObservableType,
  value: string,
  limit: number,
): Promise<{ observable: Observable | null; hits: LookupHit[]; events: EventSighting | null }> {
  assertCan(actor, 'read');
  const normalised = normaliseObservable(type, value);
  const [found, events] = await Promise.all([
    lookupObservable(context.database.db, actor.orgId, type, normalised, limit),
    findEventSighting(context.database.db, actor.orgId, type, normalised),
  ]);
  return { ...found, events };
}

export async function listTasks(context: ServiceContext, actor: Actor, incidentId: string): Promise<Task[]> {
  assertCan(actor, 'read');
  await requireIncident(context.database.db, actor, incidentId);
  return listTaskRows(context.database.db, actor.orgId, incidentId);
}

export async function createTask(
  context: ServiceContext,
  actor: Actor,
  incidentId: string,
  input: { title: string; description?: string | undefined; assigneeId?: string | null | undefined },
): Promise<Task> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    const incident = await requireOpenIncident(unit, actor, incidentId);
    await assertAssignable(unit, actor, input.assigneeId);
    const task: Task = {
      id: context.newId(),
      orgId: actor.orgId,
      incidentId,
      title: input.title,
      description: input.description ?? '',
      status: 'open',
      assigneeId: input.assigneeId ?? null,
      position: await nextTaskPosition(unit.tx, actor.orgId, incidentId),
      createdAt: unit.now,
      updatedAt: unit.now,
      completedAt: null,
    };
    await saveTask(unit.tx, task, true);
    await touch(unit, incident);
    await unit.audit({
      actor,
      action: 'task.created',
      targetType: 'task',
      targetId: task.id,
      incidentId,
      changes: { title: task.title, assignee_id: task.assigneeId },
    });
    return task;
  });
}

/** The fields a task edit may change, with their wire names. */
const TASK_FIELDS = {
  title: 'title',
  description: 'description',
  status: 'status',
  assigneeId: 'assignee_id',
} as const;

export async function updateTask(
  context: ServiceContext,
  actor: Actor,
  incidentId: string,
  taskId: string,
  patch: Partial<{ title: string; description: string; status: TaskStatus; assigneeId: string | null }>,
): Promise<Task> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    const incident = await requireOpenIncident(unit, actor, incidentId);
    const task = await findTask(unit.tx, actor.orgId, incidentId, taskId);
    if (!task) throw new NotFoundError('task', taskId);
    if (patch.assigneeId !== undefined) await assertAssignable(unit, actor, patch.assigneeId);
    const { next, changes, changed } = applyPatch(task, patch, TASK_FIELDS);
    if (!changed) return task;
    const updated: Task = {
      ...next,
      completedAt: next.status === 'done' ? (task.completedAt ?? unit.now) : null,
      updatedAt: unit.now,
    };
    await saveTask(unit.tx, updated, false);
    await touch(unit, incident);
    await unit.audit({
      actor,
      action: 'task.updated',
      targetType: 'task',
      targetId: taskId,
      incidentId,
      changes,
    });
    return updated;
  });
}

export async function listNotes(context: ServiceContext, actor: Actor, incidentId: string): Promise<Note[]> {
  assertCan(actor, 'read');
  await requireIncident(context.database.db, actor, incidentId);
  return listNoteRows(context.database.db, actor.orgId, incidentId);
}

/** Adds a Markdown note (stored as written; rendering escapes it). Notes may be added after closing. */
export async function addNote(
  context: ServiceContext,
  actor: Actor,
  incidentId: string,
  body: string,
): Promise<Note> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    const incident = await requireIncident(unit.tx, actor, incidentId);
    const note: Note = {
      id: context.newId(),
      orgId: actor.orgId,
      incidentId,
      authorKind: actor.kind,
      authorId: actor.userId ?? actor.id,
      authorName: actor.name,
      body,
      createdAt: unit.now,
      updatedAt: unit.now,
    };
    await saveNote(unit.tx, note, true);
    await touch(unit, incident);
    await unit.audit({
      actor,
      action: 'note.added',
      targetType: 'note',
      targetId: note.id,
      incidentId,
      changes: { body },
    });
    return note;
  });
}

/** Edits a note; only its author may. The previous text stays in the audit trail. */
export async function editNote(
  context: ServiceContext,
  actor: Actor,
  incidentId: string,
  noteId: string,
  body: string,
): Promise<Note> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    await requireIncident(unit.tx, actor, incidentId);
    const note = await findNote(unit.tx, actor.orgId, incidentId, noteId);
    if (!note) throw new NotFoundError('note', noteId);
    if (note.authorId !== (actor.userId ?? actor.id)) {
      throw new ForbiddenError('not_author', 'only the author may edit a note', { id: noteId });
    }
    if (note.body === body) return note;
    const updated: Note = { ...note, body, updatedAt: unit.now };
    await saveNote(unit.tx, updated, false);
    await unit.audit({
      actor,
      action: 'note.edited',
      targetType: 'note',
      targetId: noteId,
      incidentId,
      changes: { body: { from: note.body, to: body } },
    });
    return updated;
  });
}
