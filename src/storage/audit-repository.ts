import { sql, type Kysely } from 'kysely';
import { CHANGE_CHANNEL } from './change-feed.js';
import type { Actor } from '../core/actor.js';
import {
  canonicalJson,
  GENESIS_HASH,
  hashAuditEntry,
  type AuditEntry,
  type Sha256Hex,
} from '../core/audit-chain.js';
import type { IdGenerator } from '../core/ids.js';
import type { DialectName } from './database.js';
import type { Schema } from './schema.js';

export interface AuditAppend {
  readonly actor: Actor;
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly incidentId?: string | null;
  /** What changed; stored as canonical JSON. Never put secrets here. */
  readonly changes: unknown;
  readonly at: string;
}

export interface AuditContext {
  readonly dialect: DialectName;
  readonly newId: IdGenerator;
  readonly sha256: Sha256Hex;
  /** The process announcing the change (see change-feed.ts). */
  readonly instanceId: string;
}

/**
 * Appends one record to the actor's organisation chain. Must run inside the transaction that makes
 * the change it records. The head row is locked (PostgreSQL `FOR UPDATE`; SQLite transactions already
 * serialise writers) so concurrent appends queue instead of forking the chain.
 */
export async function appendAudit(
  tx: Kysely<Schema>,
  context: AuditContext,
  entry: AuditAppend,
): Promise<AuditEntry> {
  const orgId = entry.actor.orgId;
  let headQuery = tx.selectFrom('audit_heads').select(['seq', 'hash']).where('org_id', '=', orgId);
  if (context.dialect === 'postgres') headQuery = headQuery.forUpdate();
  let head = await headQuery.executeTakeFirst();
  if (!head) {
    await tx.insertInto('audit_heads').values({ org_id: orgId, seq: 0, hash: GENESIS_HASH }).execute();
    head = { seq: 0, hash: GENESIS_HASH };
  }
  const content = {
    orgId,
    seq: head.seq + 1,
    at: entry.at,
    actorKind: entry.actor.kind,
    actorId: entry.actor.id,
    actorName: entry.actor.name,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    incidentId: entry.incidentId ?? null,
    changes: canonicalJson(entry.changes ?? {}),
    prevHash: head.hash,
  };
  const record: AuditEntry = {
    ...content,
    id: context.newId(),
    hash: hashAuditEntry(content, context.sha256),
  };
  await tx
    .insertInto('audit_log')
    .values({
      id: record.id,
      org_id: record.orgId,
      seq: record.seq,
      at: record.at,
      actor_kind: record.actorKind,
      actor_id: record.actorId,
      actor_name: record.actorName,
      action: record.action,
      target_type: record.targetType,
      target_id: record.targetId,
      incident_id: record.incidentId,
      changes: record.changes,
      prev_hash: record.prevHash,
      hash: record.hash,
    })
    .execute();
  await tx
    .updateTable('audit_heads')
    .set({ seq: record.seq, hash: record.hash })
    .where('org_id', '=', orgId)
    .execute();
  if (context.dialect === 'postgres') {
    // Delivered to every listening process when (and only if) this transaction commits.
    await sql`select pg_notify(${CHANGE_CHANNEL}, ${JSON.stringify({ ...changeOf(record), origin: context.instanceId })})`.execute(
      tx,
    );
  }
  return record;
}

type AuditRow = {
  id: string;
  org_id: string;
  seq: number;
  at: string;
  actor_kind: string;
  actor_id: string;
  actor_name: string;
  action: string;
  target_type: string;
  target_id: string;
  incident_id: string | null;
  changes: string;
  prev_hash: string;
  hash: string;
};

export function auditEntryFromRow(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    orgId: row.org_id,
    seq: row.seq,
    at: row.at,
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    actorName: row.actor_name,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    incidentId: row.incident_id,
    changes: row.changes,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Streams an organisation's chain in `seq` order, in batches, so verification holds memory flat. */
export async function* readAuditChain(
  db: Kysely<Schema>,
  orgId: string,
  batchSize = 5000,
): AsyncGenerator<AuditEntry> {
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(batchSize)
      .execute();
    for (const row of rows) yield auditEntryFromRow(row);
    const last = rows.at(-1);
    if (!last || rows.length < batchSize) return;
    after = last.seq;
  }
}

export async function readAuditHead(
  db: Kysely<Schema>,
  orgId: string,
): Promise<{ seq: number; hash: string } | null> {
  return (
    (await db
      .selectFrom('audit_heads')
      .select(['seq', 'hash'])
      .where('org_id', '=', orgId)
      .executeTakeFirst()) ?? null
  );
}

/** One page of the records that concern an incident, oldest first, after `afterSeq`. */
export async function readIncidentAudit(
  db: Kysely<Schema>,
  orgId: string,
  incidentId: string,
  afterSeq: number,
  limit: number,
): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('incident_id', '=', incidentId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map(auditEntryFromRow);
}

/** What listeners hear about a committed record (no content: they read what they need). */
export interface ChangeNotice {
  readonly orgId: string;
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly incidentId: string | null;
  readonly at: string;
}

export function changeOf(record: AuditEntry): ChangeNotice {
  return {
    orgId: record.orgId,
    action: record.action,
    targetType: record.targetType,
    targetId: record.targetId,
    incidentId: record.incidentId,
    at: record.at,
  };
}
