import { describe, expect, it } from 'vitest';
import { formatPeer } from './server.js';

describe('formatPeer', () => {
  it('writes IPv4, bracketed IPv6, and IPv4-mapped IPv6 as IPv4', () => {
    expect(formatPeer('203.0.113.7', 51234)).toBe('203.0.113.7:51234');
    expect(formatPeer('2001:db8::1', 514)).toBe('[2001:db8::1]:514');
    expect(formatPeer('::ffff:192.0.2.1', 514)).toBe('192.0.2.1:514');
    expect(formatPeer('::ffff:c000:201', 514)).toBe('[::ffff:c000:201]:514');
    expect(formatPeer(undefined, undefined)).toBe('unknown');
  });
});
