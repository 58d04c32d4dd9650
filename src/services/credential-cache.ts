import type { Clock } from '../core/clock.js';
import type { DomainEventListener } from './context.js';
import type { Authenticated } from './identity.js';

/** Changes after which no cached credential may be trusted. */
const INVALIDATING_ACTIONS = new Set(['token.revoked', 'user.updated', 'auth.logout']);

/**
 * Remembers resolved credentials for a few seconds so a busy client costs one lookup, not one per
 * request. Any revocation, logout or user change in this process clears it at once; another process
 * (several servers on PostgreSQL) notices within `ttlMs`. Keys are hashes of the secrets, never the
 * secrets themselves. Bounded: the oldest entries are evicted first.
 */
export class CredentialCache {
  private readonly entries = new Map<string, { auth: Authenticated; until: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = 5_000,
    private readonly capacity = 10_000,
  ) {}

  get(key: string): Authenticated | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.clock.now().getTime()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.auth;
  }

  set(key: string, auth: Authenticated): void {
    if (this.ttlMs <= 0) return;
    const now = this.clock.now().getTime();
    const expires = auth.expiresAt ? new Date(auth.expiresAt).getTime() : Number.POSITIVE_INFINITY;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { auth, until: Math.min(now + this.ttlMs, expires) });
  }

  clear(): void {
    this.entries.clear();
  }

  /** Subscribe this to the service context's listeners. */
  readonly onChange: DomainEventListener = (event) => {
    if (INVALIDATING_ACTIONS.has(event.action)) this.clear();
  };
}
