import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { CredentialCache } from './credential-cache.js';
import type { Authenticated } from './identity.js';

const auth = (expiresAt: string | null = null): Authenticated => ({
  actor: { kind: 'token', id: 't1', name: 'ci', orgId: 'o1', role: 'viewer' },
  via: 'token',
  expiresAt,
});

describe('credential cache', () => {
  it('trusts an entry for its TTL, never past the credential expiry', () => {
    const clock = new ManualClock('2026-01-01T00:00:00.000Z');
    const cache = new CredentialCache(clock, 5_000);
    cache.set('a', auth());
    cache.set('b', auth('2026-01-01T00:00:02.000Z'));
    clock.advance(2_000);
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('b')).toBeUndefined();
    clock.advance(3_000);
    expect(cache.get('a')).toBeUndefined();
  });

  it('forgets everything on a revocation, logout or user change, and nothing on other changes', () => {
    const cache = new CredentialCache(new ManualClock(), 5_000);
    const event = (action: string) => ({
      orgId: 'o1',
      action,
      targetType: 'x',
      targetId: 'y',
      incidentId: null,
      at: '',
    });
    cache.set('a', auth());
    cache.onChange(event('incident.created'));
    expect(cache.get('a')).toBeDefined();
    for (const action of ['token.revoked', 'auth.logout', 'user.updated']) {
      cache.set('a', auth());
      cache.onChange(event(action));
      expect(cache.get('a'), action).toBeUndefined();
    }
  });

  it('stays within its capacity and can be disabled', () => {
    const cache = new CredentialCache(new ManualClock(), 5_000, 2);
    cache.set('a', auth());
    cache.set('b', auth());
    cache.set('c', auth());
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBeDefined();
    const off = new CredentialCache(new ManualClock(), 0);
    off.set('a', auth());
    expect(off.get('a')).toBeUndefined();
  });
});
