import type { NormalisedEvent, ReceivedEvent } from './event-record.js';

/** Parsers whose events come from Linux hosts: Sigma's `product: linux` rules see them. */
const LINUX_PARSERS = new Set(['syslog', 'openssh', 'sudo', 'auditd', 'linux']);

/**
 * The document detection rules read for one event: the normalised ECS fields (flat dotted keys), a
 * `product` for Sigma's log-source dispatch, and for Windows events the raw EVTX-JSON or Winlogbeat
 * body, so SigmaHQ's Windows rules read EventData names exactly as they are written.
 */
export function detectionDocument(
  event: ReceivedEvent,
  normalised: NormalisedEvent,
): Record<string, unknown> {
  const raw = event.raw;
  if (typeof raw === 'object' && raw !== null) {
    if (typeof raw['Event'] === 'object' && raw['Event'] !== null) {
      return { ...normalised.fields, Event: raw['Event'], product: 'windows' };
    }
    if (typeof raw['winlog'] === 'object' && raw['winlog'] !== null) {
      return { ...normalised.fields, winlog: raw['winlog'], product: 'windows' };
    }
  }
  const product =
    normalised.parser === 'windows'
      ? 'windows'
      : LINUX_PARSERS.has(normalised.parser) || normalised.parser.startsWith('syslog')
        ? 'linux'
        : undefined;
  const fields = normalised.fields as Record<string, unknown>;
  if (product === undefined) return fields;
  // An event that carries its own `product` field keeps it stored as is; detection sees ours on a copy.
  if (Object.hasOwn(fields, 'product')) return { ...fields, product };
  // The hot path (tens of thousands of events a second) reads the fields in place instead of
  // copying them. `product` is added as a non-enumerable property: rules read it by name, while
  // keyword searches (which walk the values) and the stored JSON never see it.
  Object.defineProperty(fields, 'product', { value: product, enumerable: false, configurable: true });
  return fields;
}
