import ipaddr from 'ipaddr.js';
import { UserError } from './errors.js';
import type { ObservableType } from './vocabulary.js';

const HEX = /^[0-9a-f]+$/;
const HASH_LENGTH: Partial<Record<ObservableType, number>> = { hash_md5: 32, hash_sha1: 40, hash_sha256: 64 };
// One label: letters, digits, hyphen, underscore (seen in real DNS names); linear, no nesting.
const DOMAIN_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const MAX_LENGTH = 8192;

function invalid(type: ObservableType, value: string, why: string): UserError {
  return new UserError('invalid_observable', `not a valid ${type}: ${why}`, {
    field: 'value',
    type,
    value: value.slice(0, 200),
  });
}

function normaliseDomain(raw: string, type: ObservableType): string {
  let host = raw.trim().toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) throw invalid(type, raw, 'length must be 1-253');
  // IDNs are stored in their ASCII (punycode) form so both spellings meet.
  if (!/^[\x21-\x7e]*$/.test(host)) {
    try {
      host = new URL(`http://${host}/`).hostname;
    } catch {
      throw invalid(type, raw, 'not a host name');
    }
  }
  for (const label of host.split('.')) {
    if (!DOMAIN_LABEL.test(label)) throw invalid(type, raw, `bad label "${label.slice(0, 64)}"`);
  }
  return host;
}

/**
 * Pure. The canonical form of an observable value, so the same indicator written two ways is one
 * record: addresses in RFC 5952 form (IPv4-mapped IPv6 as IPv4), domains and hosts lower case without
 * the trailing dot (IDNs in punycode), URLs as WHATWG-parsed, hashes as lower-case hex of the right
 * length, emails and users lower case. Throws UserError `invalid_observable` naming the field `value`.
 */
export function normaliseObservable(type: ObservableType, value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw invalid(type, value, 'empty');
  if (trimmed.length > MAX_LENGTH) throw invalid(type, value, `longer than ${MAX_LENGTH} characters`);
  switch (type) {
    case 'ip': {
      if (!ipaddr.isValid(trimmed)) throw invalid(type, value, 'not an IPv4 or IPv6 address');
      const parsed = ipaddr.process(trimmed);
      return parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString();
    }
    case 'domain':
      return normaliseDomain(trimmed, type);
    case 'host':
      return trimmed.toLowerCase();
    case 'url': {
      try {
        return new URL(trimmed).href;
      } catch {
        throw invalid(type, value, 'not an absolute URL');
      }
    }
    case 'email': {
      const at = trimmed.lastIndexOf('@');
      if (at < 1 || at === trimmed.length - 1) throw invalid(type, value, 'expected local@domain');
      return `${trimmed.slice(0, at).toLowerCase()}@${normaliseDomain(trimmed.slice(at + 1), type)}`;
    }
    case 'hash_md5':
    case 'hash_sha1':
    case 'hash_sha256': {
      const hex = trimmed.toLowerCase();
      const length = HASH_LENGTH[type];
      if (hex.length !== length || !HEX.test(hex))
        throw invalid(type, value, `expected ${length} hex digits`);
      return hex;
    }
    case 'user':
      return trimmed.toLowerCase();
    case 'filename':
    case 'process':
    case 'registry':
    case 'other':
      return trimmed;
  }
}
