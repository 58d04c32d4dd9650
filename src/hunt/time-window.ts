import { parseTimestamp } from '../detection/event.js';

/**
 * The times a hunt looks at (`--from`, `--to`), both ends included, in epoch milliseconds. An event
 * outside it, or without a time, is skipped before detection: it neither matches nor feeds a
 * correlation or an anomaly baseline.
 */
export interface TimeWindow {
  readonly from: number;
  readonly to: number;
}

/**
 * A date, or a date and time with an optional zone: `2026-11-01`, `2026-11-01T08:00`,
 * `2026-11-01 08:00:00.5+02:00`. Linear: no quantifier can backtrack into another.
 */
const BOUND = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * A window bound from the command line, or null when it is not a date or time. A time without a zone is
 * UTC, as event times without one are. A date alone is the start of that day for `from`, its last
 * millisecond for `to` (so `--to 2026-11-30` includes the 30th).
 */
export function parseWindowBound(value: string, end: 'from' | 'to'): number | null {
  const text = value.trim();
  if (!BOUND.test(text)) return null;
  // a day that does not exist (2026-02-30) is refused rather than rolled over into the next month
  const [year, month, day] = [text.slice(0, 4), text.slice(5, 7), text.slice(8, 10)].map(Number);
  const date = new Date(Date.UTC(year!, month! - 1, day));
  if (date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day) return null;
  const parsed = parseTimestamp(DATE_ONLY.test(text) ? `${text}T00:00:00Z` : text);
  if (parsed === undefined) return null;
  return DATE_ONLY.test(text) && end === 'to' ? parsed + DAY_MS - 1 : parsed;
}

/** True when `time` (epoch ms, or undefined for an event without one) lies in the window. */
export function inWindow(window: TimeWindow, time: number | undefined): boolean {
  return time !== undefined && time >= window.from && time <= window.to;
}
