/** Fixtures for spool tests and the spool bench: realistic received events of about 300 bytes. */
import type { ReceivedEvent } from '../../../src/ingest/event-record.js';

const ORG = '0197a8c2-5a1e-7000-8000-000000000001';

/** A syslog-like event; `n` makes its id and content unique and checkable. */
export function buildReceivedEvent(n: number, overrides: Partial<ReceivedEvent> = {}): ReceivedEvent {
  const hex = n.toString(16).padStart(12, '0');
  return {
    id: `0197a8c2-5a1e-7${hex.slice(0, 3)}-8${hex.slice(3, 6)}-${hex.slice(6)}000000`.slice(0, 36),
    orgId: ORG,
    receivedAt: new Date(Date.UTC(2026, 0, 1) + n).toISOString(),
    source: { kind: 'syslog', name: 'edge-fw', peer: `203.0.113.${n % 250}:51${n % 1000}` },
    format: 'syslog',
    raw: `<38>Jan  1 00:00:00 bastion sshd[${1000 + (n % 9000)}]: Failed password for invalid user admin${n % 97} from 198.51.100.${n % 250} port ${40000 + (n % 20000)} ssh2 seq=${n}`,
    ...overrides,
  };
}

/** `count` events numbered from `first`. */
export function buildReceivedEvents(first: number, count: number): ReceivedEvent[] {
  return Array.from({ length: count }, (_, i) => buildReceivedEvent(first + i));
}

/** The number a fixture event was built from (from its `seq=` suffix). */
export function eventNumber(event: ReceivedEvent): number {
  const raw = typeof event.raw === 'string' ? event.raw : '';
  return Number(raw.slice(raw.lastIndexOf('seq=') + 4));
}
