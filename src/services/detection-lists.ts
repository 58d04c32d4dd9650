import type { Kysely } from 'kysely';
import { assertCan, type Actor } from '../core/actor.js';
import { NotFoundError, UserError } from '../core/errors.js';
import type { Schema } from '../storage/schema.js';
import { inTransaction, type ServiceContext } from './context.js';

/**
 * Value lists an organisation imports for its rules. A list named `firebreak_blocklist_ips` fills
 * `%firebreak_blocklist_ips%` wherever a rule uses `|expand`, replacing the shipped mapping's value;
 * the active rule set is compiled again when a list changes (audited `detection_list.*`).
 */
export interface DetectionList {
  readonly name: string;
  readonly description: string;
  readonly entries: readonly string[];
  readonly updatedBy: string;
  readonly updatedAt: string;
}

export const MAX_LIST_ENTRIES = 100_000;
const NAME = /^[a-z][a-z0-9_]{0,63}$/;

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new UserError(
      'invalid_list_name',
      'name: lower-case letters, digits and _, starting with a letter',
      {
        field: 'name',
      },
    );
  }
}

type Row = Schema['detection_lists'];

function listFromRow(row: Row): DetectionList {
  return {
    name: row.name,
    description: row.description,
    entries: JSON.parse(row.entries) as string[],
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

/** The organisation's lists by name, for compiling its rules. */
export async function listPlaceholders(
  db: Kysely<Schema>,
  orgId: string,
): Promise<Record<string, readonly string[]>> {
  const rows = await db.selectFrom('detection_lists').selectAll().where('org_id', '=', orgId).execute();
  return Object.fromEntries(rows.map((row) => [row.name, JSON.parse(row.entries) as string[]]));
}

export async function listDetectionLists(context: ServiceContext, actor: Actor): Promise<DetectionList[]> {
  assertCan(actor, 'read');
  const rows = await context.database.db
    .selectFrom('detection_lists')
    .selectAll()
    .where('org_id', '=', actor.orgId)
    .orderBy('name')
    .execute();
  return rows.map(listFromRow);
}

export async function getDetectionList(
  context: ServiceContext,
  actor: Actor,
  name: string,
): Promise<DetectionList> {
  assertCan(actor, 'read');
  checkName(name);
  const row = await context.database.db
    .selectFrom('detection_lists')
    .selectAll()
    .where('org_id', '=', actor.orgId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('detection_list', name);
  return listFromRow(row);
}

/** Creates or replaces a list (entries trimmed, blanks and repeats dropped). */
export async function putDetectionList(
  context: ServiceContext,
  actor: Actor,
  name: string,
  input: { entries: readonly string[]; description?: string | undefined },
): Promise<DetectionList> {
  assertCan(actor, 'write');
  checkName(name);
  const entries = [...new Set(input.entries.map((e) => e.trim()).filter((e) => e !== ''))];
  if (entries.length > MAX_LIST_ENTRIES) {
    throw new UserError('list_too_long', `entries: at most ${MAX_LIST_ENTRIES}`, { field: 'entries' });
  }
  return inTransaction(context, async (unit) => {
    const row: Row = {
      org_id: actor.orgId,
      name,
      description: input.description ?? '',
      entries: JSON.stringify(entries),
      updated_by: actor.name,
      updated_at: unit.now,
    };
    await unit.tx
      .insertInto('detection_lists')
      .values(row)
      .onConflict((c) =>
        c.columns(['org_id', 'name']).doUpdateSet({
          description: row.description,
          entries: row.entries,
          updated_by: row.updated_by,
          updated_at: row.updated_at,
        }),
      )
      .execute();
    await unit.audit({
      actor,
      action: 'detection_list.updated',
      targetType: 'detection_list',
      targetId: name,
      changes: { entries: entries.length, description: row.description },
    });
    return listFromRow(row);
  });
}

export async function deleteDetectionList(
  context: ServiceContext,
  actor: Actor,
  name: string,
): Promise<void> {
  assertCan(actor, 'write');
  checkName(name);
  await inTransaction(context, async (unit) => {
    const result = await unit.tx
      .deleteFrom('detection_lists')
      .where('org_id', '=', actor.orgId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new NotFoundError('detection_list', name);
    await unit.audit({
      actor,
      action: 'detection_list.deleted',
      targetType: 'detection_list',
      targetId: name,
      changes: {},
    });
  });
}
