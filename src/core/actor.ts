import type { Role } from './vocabulary.js';
import { ForbiddenError } from './errors.js';

/**
 * Who does something. Every command takes an actor and the audit record names it.
 * - user: a person signed in with a session
 * - token: an API token (acting with its owner's role)
 * - integration: an alert webhook integration (Alertmanager, Suricata, ...) posting with its own token
 * - system: Firebreak itself (migrations, bootstrap, workers)
 */
export type ActorKind = 'user' | 'token' | 'integration' | 'system';

export interface Actor {
  readonly kind: ActorKind;
  /** user id, token id, integration id, or a fixed name for system actors */
  readonly id: string;
  /** human readable: an email, a token name, an integration name, "system" */
  readonly name: string;
  readonly orgId: string;
  readonly role: Role;
  /** for tokens: the user the token belongs to */
  readonly userId?: string;
}

/** What a role may do. Viewers read; responders work incidents; admins also manage people and tokens. */
export type Permission = 'read' | 'write' | 'admin';

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set(['read']),
  responder: new Set(['read', 'write']),
  admin: new Set(['read', 'write', 'admin']),
};

export function can(actor: Pick<Actor, 'role'>, permission: Permission): boolean {
  return GRANTS[actor.role].has(permission);
}

/** Pure; throws ForbiddenError (code `forbidden`) when the actor's role lacks the permission. */
export function assertCan(actor: Actor, permission: Permission): void {
  if (!can(actor, permission)) {
    throw new ForbiddenError('forbidden', `role ${actor.role} may not ${permission}`, {
      role: actor.role,
      permission,
    });
  }
}

export function systemActor(orgId: string): Actor {
  return { kind: 'system', id: 'system', name: 'system', orgId, role: 'admin' };
}
