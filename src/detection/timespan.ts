import { invalid } from './errors.js';

const TIMESPAN_UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses "90m", "1h", "2d" (also M for 30 days and y for 365 days). */
export function parseTimespan(value: unknown, path: string): number {
  const text = typeof value === 'number' ? `${value}s` : value;
  if (typeof text !== 'string') return invalid(path, 'must be a duration like 5m, 1h, 1d');
  const m = /^\s*(\d+)\s*([smhdwMy])\s*$/.exec(text);
  if (!m) return invalid(path, `"${text}" is not a duration (number + s, m, h, d)`);
  const unit = m[2]!;
  const ms = unit === 'M' ? 30 * 86_400_000 : unit === 'y' ? 365 * 86_400_000 : TIMESPAN_UNITS[unit]!;
  const amount = Number(m[1]);
  if (amount <= 0) invalid(path, 'must be positive');
  return amount * ms;
}
