/**
 * Time readers for the formats the parsers meet. All scan by hand (no regular expressions) and return
 * epoch milliseconds, or undefined when the text is not a readable time. Times without a zone are UTC.
 */

import { isoUtc } from '../../core/iso-time.js';

/** Earliest and latest event time accepted as the event's own (outside: use the receive time). */
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** The month index (0-11) of a three-letter English month name at text[i], any case; -1 otherwise. */
export function monthAt(text: string, i: number): number {
  if (i + 3 > text.length) return -1;
  const a = text.charCodeAt(i) & ~0x20;
  const b = text.charCodeAt(i + 1) | 0x20;
  const c = text.charCodeAt(i + 2) | 0x20;
  const m = MONTHS[String.fromCharCode(a, b, c)];
  return m === undefined ? -1 : m;
}

/** `count` decimal digits at text[i] as a number, or -1. */
export function digitsAt(text: string, i: number, count: number): number {
  if (i + count > text.length) return -1;
  let v = 0;
  for (let k = 0; k < count; k++) {
    const c = text.charCodeAt(i + k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Epoch ms for a calendar date and time in UTC after range checks (Feb 30 is refused), or undefined. */
export function utcTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): number | undefined {
  if (year < 1 || month < 0 || month > 11 || day < 1 || day > 31) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;
  // A leap second (:60) is read as the last millisecond of the minute.
  const leap = second === 60;
  const t = Date.UTC(year, month, day, hour, minute, leap ? 59 : second, leap ? 999 : ms);
  const d = new Date(t);
  if (d.getUTCDate() !== day || d.getUTCMonth() !== month) return undefined;
  return inRange(t);
}

/** `t` when it is a finite time in the accepted range, else undefined. */
export function inRange(t: number): number | undefined {
  return Number.isFinite(t) && t >= MIN_TIME && t <= MAX_TIME ? t : undefined;
}

/** The last conversion: log lines come in bursts that share their second. A pure cache. */
let lastIso = { t: 0, iso: '1970-01-01T00:00:00.000Z' };

/** ISO 8601 UTC text for epoch ms; never throws (an out-of-range time gives the epoch). */
export function toIso(t: number): string {
  if (t === lastIso.t) return lastIso.iso;
  const ok = inRange(t);
  const iso = isoUtc(ok === undefined ? 0 : ok);
  lastIso = { t, iso };
  return iso;
}

/** Result of reading a time at a position: the time and where the text after it starts. */
export interface TimeAt {
  readonly time: number;
  readonly end: number;
}

/**
 * Reads a zone designator at text[i]: `Z`, `+hh:mm`, `+hhmm`, `+hh` (also `-`). Returns the offset in
 * minutes and the end, or undefined when there is none.
 */
function zoneAt(text: string, i: number): { offset: number; end: number } | undefined {
  const c = text.charCodeAt(i);
  if (c === 90 || c === 122) return { offset: 0, end: i + 1 };
  if (c !== 43 && c !== 45) return undefined;
  const sign = c === 45 ? -1 : 1;
  const hh = digitsAt(text, i + 1, 2);
  if (hh < 0 || hh > 23) return undefined;
  let end = i + 3;
  let mm = 0;
  if (text.charCodeAt(end) === 58) {
    mm = digitsAt(text, end + 1, 2);
    if (mm < 0) return undefined;
    end += 3;
  } else {
    const m2 = digitsAt(text, end, 2);
    if (m2 >= 0) {
      mm = m2;
      end += 2;
    }
  }
  if (mm > 59) return undefined;
  return { offset: sign * (hh * 60 + mm), end };
}

/**
 * Reads `YYYY-MM-DD[T| ]HH:MM[:SS][.fraction][zone]` at text[i] (RFC 3339 / ISO 8601 and the common
 * space-separated variant). No zone means UTC. Fractions beyond milliseconds are cut.
 */
export function isoTimeAt(text: string, i: number): TimeAt | undefined {
  const year = digitsAt(text, i, 4);
  if (year < 0 || text.charCodeAt(i + 4) !== 45) return undefined;
  const month = digitsAt(text, i + 5, 2);
  if (month < 0 || text.charCodeAt(i + 7) !== 45) return undefined;
  const day = digitsAt(text, i + 8, 2);
  if (day < 0) return undefined;
  let p = i + 10;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  const sep = text.charCodeAt(p);
  if (sep === 84 || sep === 116 || (sep === 32 && digitsAt(text, p + 1, 2) >= 0)) {
    hour = digitsAt(text, p + 1, 2);
    if (hour < 0 || text.charCodeAt(p + 3) !== 58) return undefined;
    minute = digitsAt(text, p + 4, 2);
    if (minute < 0) return undefined;
    p += 6;
    if (text.charCodeAt(p) === 58) {
      second = digitsAt(text, p + 1, 2);
      if (second < 0) return undefined;
      p += 3;
      const dot = text.charCodeAt(p);
      if (dot === 46 || dot === 44) {
        p++;
        let scale = 100;
        const start = p;
        while (p < text.length) {
          const d = text.charCodeAt(p) - 48;
          if (d < 0 || d > 9) break;
          if (scale >= 1) ms += d * scale;
          scale /= 10;
          p++;
        }
        if (p === start) return undefined;
      }
    }
  }
  let offset = 0;
  const zone = zoneAt(text, p);
  if (zone !== undefined) {
    offset = zone.offset;
    p = zone.end;
  }
  const t = utcTime(year, month - 1, day, hour, minute, second, Math.floor(ms));
  if (t === undefined) return undefined;
  const shifted = inRange(t - offset * 60_000);
  return shifted === undefined ? undefined : { time: shifted, end: p };
}

/** A whole string read as an ISO 8601 time (see isoTimeAt), allowing surrounding spaces. */
export function parseIsoTime(text: string): number | undefined {
  const t = text.trim();
  const r = isoTimeAt(t, 0);
  return r !== undefined && r.end === t.length ? r.time : undefined;
}

/**
 * Epoch seconds, milliseconds or microseconds (by magnitude: below 1e11 seconds, below 1e14
 * milliseconds, else microseconds), as a number or a decimal string.
 */
export function parseEpoch(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const t = value.trim();
    if (t.length === 0 || t.length > 24) return undefined;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || c === 46)) return undefined;
    }
    n = Number(t);
  } else return undefined;
  if (!Number.isFinite(n) || n <= 0) return undefined;
  const ms = n < 1e11 ? n * 1000 : n < 1e14 ? n : n / 1000;
  return inRange(Math.floor(ms));
}

/** Any time a JSON document may carry: ISO text, epoch numbers or digit strings. */
export function parseAnyTime(value: unknown): number | undefined {
  if (typeof value === 'number') return parseEpoch(value);
  if (typeof value !== 'string') return undefined;
  const iso = parseIsoTime(value);
  if (iso !== undefined) return iso;
  return parseEpoch(value);
}

/**
 * Reads an RFC 3164 timestamp `Mmm dd hh:mm:ss` at text[i] (the day padded with a space or a zero,
 * or one digit). It has no year and no zone: the year is the one that puts the time closest to
 * `receivedAt` (so a December line received in January is last year's), the zone is UTC.
 */
export function bsdTimeAt(text: string, i: number, receivedAt: number): TimeAt | undefined {
  const month = monthAt(text, i);
  if (month < 0 || text.charCodeAt(i + 3) !== 32) return undefined;
  let p = i + 4;
  if (text.charCodeAt(p) === 32) p++;
  let day = digitsAt(text, p, 2);
  if (day >= 0) p += 2;
  else {
    day = digitsAt(text, p, 1);
    if (day < 0) return undefined;
    p += 1;
  }
  if (text.charCodeAt(p) !== 32) return undefined;
  const hour = digitsAt(text, p + 1, 2);
  const minute = digitsAt(text, p + 4, 2);
  const second = digitsAt(text, p + 7, 2);
  if (hour < 0 || minute < 0 || second < 0) return undefined;
  if (text.charCodeAt(p + 3) !== 58 || text.charCodeAt(p + 6) !== 58) return undefined;
  p += 9;
  let ms = 0;
  // Some senders add fractions (`Nov 14 10:00:00.123`).
  if (text.charCodeAt(p) === 46) {
    let q = p + 1;
    let scale = 100;
    while (q < text.length) {
      const d = text.charCodeAt(q) - 48;
      if (d < 0 || d > 9) break;
      if (scale >= 1) ms += d * scale;
      scale /= 10;
      q++;
    }
    if (q > p + 1) p = q;
  }
  const base = Number.isFinite(receivedAt) ? receivedAt : 0;
  const year = new Date(base).getUTCFullYear();
  // Within 150 days of the receive time, the receive year is the closest (the years either side
  // are at least 215 days away): the common case needs one date.
  const same = utcTime(year, month, day, hour, minute, second, Math.floor(ms));
  if (same !== undefined && Math.abs(same - base) <= 150 * 86_400_000) return { time: same, end: p };
  let best: number | undefined;
  for (const y of [year, year - 1, year + 1]) {
    const t = utcTime(y, month, day, hour, minute, second, Math.floor(ms));
    if (t === undefined) continue;
    if (best === undefined || Math.abs(t - base) < Math.abs(best - base)) best = t;
  }
  return best === undefined ? undefined : { time: best, end: p };
}

/** Reads the access-log time `dd/Mmm/yyyy:hh:mm:ss +zzzz` at text[i] (without the brackets). */
export function clfTimeAt(text: string, i: number): TimeAt | undefined {
  const day = digitsAt(text, i, 2);
  if (day < 0 || text.charCodeAt(i + 2) !== 47) return undefined;
  const month = monthAt(text, i + 3);
  if (month < 0 || text.charCodeAt(i + 6) !== 47) return undefined;
  const year = digitsAt(text, i + 7, 4);
  if (year < 0 || text.charCodeAt(i + 11) !== 58) return undefined;
  const hour = digitsAt(text, i + 12, 2);
  const minute = digitsAt(text, i + 15, 2);
  const second = digitsAt(text, i + 18, 2);
  if (hour < 0 || minute < 0 || second < 0) return undefined;
  if (text.charCodeAt(i + 14) !== 58 || text.charCodeAt(i + 17) !== 58) return undefined;
  let p = i + 20;
  let offset = 0;
  if (text.charCodeAt(p) === 32) {
    const zone = zoneAt(text, p + 1);
    if (zone !== undefined) {
      offset = zone.offset;
      p = zone.end;
    }
  }
  const t = utcTime(year, month, day, hour, minute, second, 0);
  if (t === undefined) return undefined;
  const shifted = inRange(t - offset * 60_000);
  return shifted === undefined ? undefined : { time: shifted, end: p };
}

/**
 * Reads `Mmm dd yyyy hh:mm:ss[.SSS]` (the CEF `rt` text form; a zone name after it is ignored, UTC
 * assumed).
 */
export function cefTextTime(text: string): number | undefined {
  const t = text.trim();
  const month = monthAt(t, 0);
  if (month < 0 || t.charCodeAt(3) !== 32) return undefined;
  const day = digitsAt(t, 4, 2);
  const year = digitsAt(t, 7, 4);
  if (day < 0 || year < 0 || t.charCodeAt(6) !== 32 || t.charCodeAt(11) !== 32) return undefined;
  const hour = digitsAt(t, 12, 2);
  const minute = digitsAt(t, 15, 2);
  const second = digitsAt(t, 18, 2);
  if (hour < 0 || minute < 0 || second < 0) return undefined;
  const ms = t.charCodeAt(20) === 46 ? Math.max(0, digitsAt(t, 21, 3)) : 0;
  return utcTime(year, month, day, hour, minute, second, ms);
}
