import type { Kysely } from 'kysely';
import type { Note, Task } from '../core/model.js';
import { noteFromRow, taskFromRow } from './rows.js';
import type { Schema } from './schema.js';

/** Tasks and notes: the work recorded inside an incident. */

export async function listTasks(db: Kysely<Schema>, orgId: string, incidentId: string): Promise<Task[]> {
  const rows = await db
    .selectFrom('tasks')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('incident_id', '=', incidentId)
    .orderBy('position')
    .orderBy('id')
    .execute();
  return rows.map(taskFromRow);
}

export async function findTask(
  db: Kysely<Schema>,
  orgId: string,
  incidentId: string,
  id: string,
): Promise<Task | null> {
  const row = await db
    .selectFrom('tasks')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('incident_id', '=', incidentId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? taskFromRow(row) : null;
}

export async function nextTaskPosition(
  db: Kysely<Schema>,
  orgId: string,
  incidentId: string,
): Promise<number> {
  const row = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.max('position').as('max'))
    .where('org_id', '=', orgId)
    .where('incident_id', '=', incidentId)
    .executeTakeFirst();
  const max = row?.max;
  return max === null || max === undefined ? 0 : Number(max) + 1;
}

export async function saveTask(db: Kysely<Schema>, task: Task, isNew: boolean): Promise<void> {
  const row = {
    id: task.id,
    org_id: task.orgId,
    incident_id: task.incidentId,
    title: task.title,
    description: task.description,
    status: task.status,
    assignee_id: task.assigneeId,
    position: task.position,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
    completed_at: task.completedAt,
  };
  if (isNew) {
    await db.insertInto('tasks').values(row).execute();
    return;
  }
  const { id: _id, org_id: _org, incident_id: _incident, created_at: _created, ...mutable } = row;
  await db
    .updateTable('tasks')
    .set(mutable)
    .where('org_id', '=', task.orgId)
    .where('id', '=', task.id)
    .execute();
}

export async function listNotes(db: Kysely<Schema>, orgId: string, incidentId: string): Promise<Note[]> {
  const rows = await db
    .selectFrom('notes')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('incident_id', '=', incidentId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(noteFromRow);
}

export async function findNote(
  db: Kysely<Schema>,
  orgId: string,
  incidentId: string,
  id: string,
): Promise<Note | null> {
  const row = await db
    .selectFrom('notes')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('incident_id', '=', incidentId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? noteFromRow(row) : null;
}

export async function saveNote(db: Kysely<Schema>, note: Note, isNew: boolean): Promise<void> {
  if (isNew) {
    await db
      .insertInto('notes')
      .values({
        id: note.id,
        org_id: note.orgId,
        incident_id: note.incidentId,
        author_kind: note.authorKind,
        author_id: note.authorId,
        author_name: note.authorName,
        body: note.body,
        created_at: note.createdAt,
        updated_at: note.updatedAt,
      })
      .execute();
    return;
  }
  await db
    .updateTable('notes')
    .set({ body: note.body, updated_at: note.updatedAt })
    .where('org_id', '=', note.orgId)
    .where('id', '=', note.id)
    .execute();
}
