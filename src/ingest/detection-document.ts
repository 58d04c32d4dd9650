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
  const doc: Record<string, unknown> = { ...normalised.fields };
  const raw = event.raw;
  if (typeof raw === 'object' && raw !== null) {
    if (typeof raw['Event'] === 'object' && raw['Event'] !== null) {
      doc['Event'] = raw['Event'];
      doc['product'] = 'windows';
      return doc;
    }
    if (typeof raw['winlog'] === 'object' && raw['winlog'] !== null) {
      doc['winlog'] = raw['winlog'];
      doc['product'] = 'windows';
      return doc;
    }
  }
  if (normalised.parser === 'windows') doc['product'] = 'windows';
  else if (LINUX_PARSERS.has(normalised.parser) || normalised.parser.startsWith('syslog'))
    doc['product'] = 'linux';
  return doc;
}
