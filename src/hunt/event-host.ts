import { scalarText, type PreparedEvent } from '../detection/event.js';

/**
 * The host an event comes from, for the hunt's summary and its CSV: a Windows event's `Computer`, the
 * ECS `host.name` of any other; null when it names none.
 */
export function eventHost(event: PreparedEvent): string | null {
  return scalarText(event.get(event.product === 'windows' ? 'Computer' : 'host.name'));
}
