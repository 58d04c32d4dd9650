import { assertCan, type Actor } from '../core/actor.js';
import { NotFoundError, UserError } from '../core/errors.js';
import type { Page } from '../core/model.js';
import {
  deleteSuppression as deleteSuppressionRow,
  findSuppression,
  insertSuppression,
  listSuppressions as listSuppressionRows,
  type Suppression,
} from '../storage/rule-repository.js';
import { inTransaction, type ServiceContext } from './context.js';

/**
 * Suppressions silence known noise without disabling a rule: a detection whose event (or
 * correlation group) has `field` equal to `value` (case-insensitive), of one rule or of every rule,
 * raises no alert while the suppression is in force; it is counted on the suppression instead.
 * A reason is required and so is an expiry: a time in the future, or an explicit null for a
 * permanent suppression, so nobody silences a rule forever by leaving a field out. Responders and
 * admins write; every write is audited with the owner.
 */
export interface NewSuppressionInput {
  readonly ruleId: string | null;
  readonly field: string;
  readonly value: string;
  readonly reason: string;
  /** ISO 8601, in the future; null: permanent. */
  readonly expiresAt: string | null;
}

export async function createSuppression(
  context: ServiceContext,
  actor: Actor,
  input: NewSuppressionInput,
): Promise<Suppression> {
  assertCan(actor, 'write');
  return inTransaction(context, async (unit) => {
    if (input.expiresAt !== null && input.expiresAt <= unit.now) {
      throw new UserError('expiry_in_past', 'expires_at must be in the future (or null for permanent)', {
        field: 'expires_at',
      });
    }
    const suppression = await insertSuppression(unit.tx, {
      id: context.newId(),
      orgId: actor.orgId,
      ruleId: input.ruleId,
      field: input.field,
      value: input.value,
      reason: input.reason,
      expiresAt: input.expiresAt,
      owner: actor,
      now: unit.now,
    });
    await unit.audit({
      actor,
      action: 'suppression.created',
      targetType: 'suppression',
      targetId: suppression.id,
      changes: {
        rule_id: input.ruleId,
        field: input.field,
        value: input.value,
        reason: input.reason,
        expires_at: input.expiresAt,
      },
    });
    return suppression;
  });
}

export async function listSuppressions(
  context: ServiceContext,
  actor: Actor,
  query: { ruleId?: string | undefined; includeExpired: boolean; limit: number; cursor?: string | undefined },
): Promise<Page<Suppression>> {
  assertCan(actor, 'read');
  return listSuppressionRows(context.database.db, {
    ...query,
    orgId: actor.orgId,
    now: context.clock.now().toISOString(),
  });
}

export async function getSuppression(
  context: ServiceContext,
  actor: Actor,
  id: string,
): Promise<Suppression> {
  assertCan(actor, 'read');
  const found = await findSuppression(context.database.db, actor.orgId, id);
  if (!found) throw new NotFoundError('suppression', id);
  return found;
}

/** Lifts a suppression (its hits are kept in the audit record); audits `suppression.deleted`. */
export async function deleteSuppression(context: ServiceContext, actor: Actor, id: string): Promise<void> {
  assertCan(actor, 'write');
  await inTransaction(context, async (unit) => {
    const found = await findSuppression(unit.tx, actor.orgId, id);
    if (!found) throw new NotFoundError('suppression', id);
    await deleteSuppressionRow(unit.tx, actor.orgId, id);
    await unit.audit({
      actor,
      action: 'suppression.deleted',
      targetType: 'suppression',
      targetId: id,
      changes: {
        rule_id: found.ruleId,
        field: found.field,
        value: found.value,
        hit_count: found.hitCount,
        owner: found.owner.name,
      },
    });
  });
}
