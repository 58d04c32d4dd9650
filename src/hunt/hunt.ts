import { stat } from 'node:fs/promises';
import { isoUtc } from '../core/iso-time.js';
import { Detector, type Detection, type DetectorOptions } from '../detection/detector.js';
import { prepareEvent, type PreparedEvent } from '../detection/event.js';
import type { RuleSet } from '../detection/rule-set.js';
import { LEVELS, type Level } from '../detection/sigma-rule.js';
import { readEvtxFile } from '../ingest/evtx/index.js';
import { wrappedRecords } from '../ingest/files/record-wrappers.js';
import { eventHost } from './event-host.js';
import { HuntPool, isEvtx, type MatchedPiece } from './hunt-pool.js';
import { readJsonDocuments, type ReadProgress } from './json-reader.js';
import { inWindow, type TimeWindow } from './time-window.js';

/**
 * Where a match keeps its event's text, when the hunt read one (symbol-keyed, so `JSON.stringify` of a
 * match leaves it out): `formatMatchLine` writes it instead of serialising the parsed event again.
 */
export const EVENT_TEXT: unique symbol = Symbol('firebreak.eventText');

/** An event as its input has it. */
export interface EventText {
  /** The document on one line: as written when it is, else parsed and written compactly. */
  oneLine(): string;
}

/** One line of `firebreak hunt --json`. */
export interface HuntMatch {
  readonly rule_id: string;
  readonly rule_title: string;
  readonly level: Level;
  readonly file: string;
  /** 1-based position of the event in its file (the EVTX record id for .evtx files); null for correlations completed at end of input. */
  readonly record: number | null;
  /** ISO 8601, or null when the event has no time. */
  readonly timestamp: string | null;
  /** The event (for correlations: the group values, aggregate and window). */
  readonly event: unknown;
  /** The event's text, for rule matches whose text the hunt has (see `formatMatchLine`). */
  readonly [EVENT_TEXT]?: EventText;
}

export interface HuntSummary {
  readonly events: number;
  /** Of the events read, those skipped outside the time window (or without a time, when there is one). */
  readonly outsideWindow: number;
  readonly matches: number;
  readonly byRule: ReadonlyMap<string, { readonly title: string; readonly level: Level; count: number }>;
  /** Matches per level (those `--min-level` keeps). */
  readonly byLevel: ReadonlyMap<Level, number>;
  /** Rule matches per host of the matching event (`eventHost`), for the hosts to look at first. */
  readonly byHost: ReadonlyMap<string, number>;
  readonly elapsedMs: number;
}

export interface HuntOptions extends DetectorOptions {
  readonly minLevel?: Level;
  /**
   * Only events whose time lies in this window (both ends included) are matched; the others, and events
   * without a time, are skipped before detection (see `TimeWindow`).
   */
  readonly window?: TimeWindow;
  readonly onMatch: (match: HuntMatch) => void;
  /** Called now and then with bytes read and the total, for a progress bar. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Current time in ms, for the summary's elapsed time (injectable for tests). */
  readonly now?: () => number;
  /**
   * Worker threads that decode and match the inputs (default 1: all on this thread). Above 1 the hunt
   * starts a `HuntPool` and closes it at the end.
   */
  readonly threads?: number;
  /** A pool already started for this rule set (its start-up is then not the hunt's); left open. */
  readonly pool?: HuntPool;
}

/** Numeric rank of a level, for `--min-level`. */
export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

/** The document on one line: as written when it is, else serialised again from its parsed value. */
function oneLine(text: string, value: () => unknown): string {
  return text.includes('\n') || text.includes('\r') ? JSON.stringify(value()) : text;
}

/**
 * An event a worker matched: its text, parsed on this thread only when something reads its fields (the
 * output, a correlation, an anomaly baseline).
 */
class HeldEvent implements EventText {
  private value: unknown;
  private parsed = false;
  private prepared: PreparedEvent | undefined;

  constructor(private readonly text: string) {}

  raw(): unknown {
    if (!this.parsed) {
      this.value = JSON.parse(this.text);
      this.parsed = true;
    }
    return this.value;
  }

  prepare(): PreparedEvent {
    return (this.prepared ??= prepareEvent(this.raw()));
  }

  oneLine(): string {
    return oneLine(this.text, () => this.raw());
  }
}

/** A rule match of an event a worker matched: `event` parses the event on first read. */
class HeldMatch implements HuntMatch {
  readonly [EVENT_TEXT]: HeldEvent;

  constructor(
    readonly rule_id: string,
    readonly rule_title: string,
    readonly level: Level,
    readonly file: string,
    readonly record: number,
    readonly timestamp: string | null,
    held: HeldEvent,
  ) {
    this[EVENT_TEXT] = held;
  }

  get event(): unknown {
    return this[EVENT_TEXT].raw();
  }

  /** What `JSON.stringify` writes: the fields of `hunt --json`, as for any other match. */
  toJSON(): object {
    const { rule_id, rule_title, level, file, record, timestamp, event } = this;
    return { rule_id, rule_title, level, file, record, timestamp, event };
  }
}

/** An event read and parsed on this thread, with its text. */
class ReadText implements EventText {
  constructor(
    private readonly text: string,
    private readonly value: unknown,
  ) {}

  oneLine(): string {
    return oneLine(this.text, () => this.value);
  }
}

const prepareHeld = (event: HeldEvent): PreparedEvent => event.prepare();

/** Worker threads for the inputs, or none. */
async function poolFor(set: RuleSet, options: HuntOptions): Promise<HuntPool | undefined> {
  if (options.pool !== undefined) {
    if (options.pool.set !== set) throw new Error('pool: started for another rule set');
    return options.pool;
  }
  const threads = options.threads ?? 1;
  if (threads <= 1 || set.origin === undefined) return undefined;
  return HuntPool.start(set, { threads, engine: options });
}

/**
 * Runs a rule set over input files (JSON layouts as `readJsonDocuments` reads them, and .evtx) and
 * reports each match through `onMatch`, in input order. Resolves with counts per rule. With
 * `threads` above 1, the inputs are decoded and matched on worker threads (see `HuntPool`); the
 * matches, their order and the correlations are the same.
 */
export async function runHunt(
  inputs: readonly string[],
  set: RuleSet,
  options: HuntOptions,
): Promise<HuntSummary> {
  const now = options.now ?? (() => Date.now());
  const started = now();
  const detector = new Detector(set, options);
  const min = options.minLevel === undefined ? 0 : levelRank(options.minLevel);
  const byRule = new Map<string, { title: string; level: Level; count: number }>();
  const byLevel = new Map<Level, number>();
  const byHost = new Map<string, number>();
  const countHost = (host: string | null): void => {
    if (host !== null && host !== '') byHost.set(host, (byHost.get(host) ?? 0) + 1);
  };
  let events = 0;
  let outsideWindow = 0;
  const window = options.window ?? null;
  let matches = 0;
  let total = 0;
  const sizes: number[] = [];
  for (const file of inputs) sizes.push((await stat(file)).size);
  for (const size of sizes) total += size;
  const progress: ReadProgress = { bytes: 0 };
  let nextReport = 0;
  const report = (): void => {
    if (options.onProgress !== undefined && progress.bytes >= nextReport) {
      options.onProgress(progress.bytes, total);
      nextReport = progress.bytes + total / 100;
    }
  };

  // The matches of one event share its time: format it once.
  let lastTime = NaN;
  let lastIso = '';
  const iso = (ms: number): string => {
    if (ms !== lastTime) {
      lastIso = isoUtc(ms);
      lastTime = ms;
    }
    return lastIso;
  };
  /** Counts a detection and gives its time (null when it has none); undefined below `--min-level`. */
  const count = (d: Detection<unknown>): string | null | undefined => {
    if (levelRank(d.rule.level) < min) return undefined;
    matches++;
    let entry = byRule.get(d.rule.id);
    if (entry === undefined) {
      entry = { title: d.rule.title, level: d.rule.level, count: 0 };
      byRule.set(d.rule.id, entry);
    }
    entry.count++;
    byLevel.set(d.rule.level, (byLevel.get(d.rule.level) ?? 0) + 1);
    return d.timestamp === undefined || !Number.isFinite(d.timestamp) ? null : iso(d.timestamp);
  };
  const correlationEvent = (d: Detection<unknown> & { kind: 'correlation' }): unknown => ({
    group: d.match.group,
    value: d.match.value,
    events: d.match.events,
    first: isoUtc(d.match.first),
    last: isoUtc(d.match.last),
  });
  const anomalyEvent = (d: Detection<unknown> & { kind: 'anomaly' }, raw: unknown): unknown => ({
    entity: d.alert.entity,
    value: d.alert.value,
    baseline_median: d.alert.median,
    baseline_mad: d.alert.mad,
    window_start: isoUtc(d.alert.windowStart),
    event: raw,
  });

  /** A detection on this thread: the event is prepared, `text` its document as read (JSON inputs). */
  const emit = (d: Detection, file: string, record: number | null, text?: string): void => {
    const timestamp = count(d);
    if (timestamp === undefined) return;
    const { id, title, level } = d.rule;
    if (d.kind === 'rule') {
      const raw = d.event.raw;
      countHost(eventHost(d.event));
      options.onMatch({
        rule_id: id,
        rule_title: title,
        level,
        file,
        record,
        timestamp,
        event: raw,
        [EVENT_TEXT]: text === undefined ? undefined : new ReadText(text, raw),
      });
    } else {
      const event = d.kind === 'anomaly' ? anomalyEvent(d, d.event.raw) : correlationEvent(d);
      options.onMatch({ rule_id: id, rule_title: title, level, file, record, timestamp, event });
    }
  };
  /** A detection of an event a worker matched: its event is read only if the consumer asks for it. */
  const emitHeld = (d: Detection<HeldEvent>, file: string, record: number, host: string): void => {
    const timestamp = count(d);
    if (timestamp === undefined) return;
    const { id, title, level } = d.rule;
    if (d.kind === 'rule') {
      countHost(host);
      options.onMatch(new HeldMatch(id, title, level, file, record, timestamp, d.event));
    } else {
      const event = d.kind === 'anomaly' ? anomalyEvent(d, d.event.raw()) : correlationEvent(d);
      options.onMatch({ rule_id: id, rule_title: title, level, file, record, timestamp, event });
    }
  };

  const one = (file: string, record: number, value: unknown, text?: string): void => {
    const items = wrappedRecords(value);
    if (items === null) oneEvent(file, record, value, text);
    else for (const item of items) oneEvent(file, record, item);
  };
  const oneEvent = (file: string, record: number, value: unknown, text?: string): void => {
    events++;
    if (value === null || typeof value !== 'object') return;
    const event = prepareEvent(value);
    if (window !== null && !inWindow(window, event.timestamp())) {
      outsideWindow++;
      return;
    }
    const found = detector.process(event);
    for (let i = 0; i < found.length; i++) emit(found[i]!, file, record, text);
    if ((events & 0x3fff) === 0) report();
  };
  const piece = (file: string, { reply, bytesRead }: MatchedPiece): void => {
    const { records, times, ruleStarts } = reply;
    for (let k = 0; k < records.length; k++) {
      const rules = [];
      for (let j = ruleStarts[k]!; j < ruleStarts[k + 1]!; j++) rules.push(set.rules[reply.rules[j]!]!);
      const time = times[k]!;
      const held = new HeldEvent(reply.texts[k]!);
      const found = detector.resolve(rules, Number.isNaN(time) ? undefined : time, held, prepareHeld);
      for (let i = 0; i < found.length; i++) emitHeld(found[i]!, file, records[k]!, reply.hosts[k]!);
    }
    events += reply.events;
    outsideWindow += reply.outsideWindow;
    if (reply.error !== undefined)
      throw new Error(`${file}: record ${reply.error.record}: invalid JSON (${reply.error.message})`);
    progress.bytes = done + bytesRead;
    report();
  };

  const pool = await poolFor(set, options);
  let done = 0; // bytes of the files before the current one
  try {
    for (const [index, file] of inputs.entries()) {
      if (pool !== undefined) {
        await pool.huntFile(file, (p) => piece(file, p), window);
      } else if (isEvtx(file)) {
        for await (const r of readEvtxFile(file)) one(file, r.recordId, r.event);
      } else {
        // The JSON reader's generator directly: a delegating generator in between cost a promise and an
        // iterator result per event.
        for await (const r of readJsonDocuments(file, progress)) one(file, r.record, r.value, r.text);
      }
      done += sizes[index]!;
      progress.bytes = done;
    }
  } finally {
    if (pool !== undefined && options.pool === undefined) await pool.close();
  }
  for (const d of detector.flush()) emit(d, inputs[inputs.length - 1] ?? '', null);
  options.onProgress?.(total, total);
  return { events, outsideWindow, matches, byRule, byLevel, byHost, elapsedMs: now() - started };
}
