import { stat } from 'node:fs/promises';
import { isoUtc } from '../core/iso-time.js';
import { Detector, type Detection, type DetectorOptions } from '../detection/detector.js';
import { prepareEvent } from '../detection/event.js';
import type { RuleSet } from '../detection/rule-set.js';
import { LEVELS, type Level } from '../detection/sigma-rule.js';
import { readEvtxFile } from '../ingest/evtx/index.js';
import { readJsonDocuments, type ReadProgress } from './json-reader.js';

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
}

export interface HuntSummary {
  readonly events: number;
  readonly matches: number;
  readonly byRule: ReadonlyMap<string, { readonly title: string; readonly level: Level; count: number }>;
  readonly elapsedMs: number;
}

export interface HuntOptions extends DetectorOptions {
  readonly minLevel?: Level;
  readonly onMatch: (match: HuntMatch) => void;
  /** Called now and then with bytes read and the total, for a progress bar. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Current time in ms, for the summary's elapsed time (injectable for tests). */
  readonly now?: () => number;
}

/** Numeric rank of a level, for `--min-level`. */
export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

const isEvtx = (file: string): boolean => /\.evtx$/i.test(file);

/**
 * Runs a rule set over input files (JSON layouts as `readJsonDocuments` reads them, and .evtx) and
 * reports each match through `onMatch`. Resolves with counts per rule.
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
  let events = 0;
  let matches = 0;
  let total = 0;
  for (const file of inputs) total += (await stat(file)).size;
  const progress: ReadProgress = { bytes: 0 };
  let nextReport = 0;

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
  const emit = (d: Detection, file: string, record: number | null): void => {
    if (levelRank(d.rule.level) < min) return;
    matches++;
    let entry = byRule.get(d.rule.id);
    if (entry === undefined) {
      entry = { title: d.rule.title, level: d.rule.level, count: 0 };
      byRule.set(d.rule.id, entry);
    }
    entry.count++;
    const timestamp = d.timestamp === undefined || !Number.isFinite(d.timestamp) ? null : iso(d.timestamp);
    const event =
      d.kind === 'rule'
        ? d.event.raw
        : d.kind === 'anomaly'
          ? {
              entity: d.alert.entity,
              value: d.alert.value,
              baseline_median: d.alert.median,
              baseline_mad: d.alert.mad,
              window_start: isoUtc(d.alert.windowStart),
              event: d.event.raw,
            }
          : {
              group: d.match.group,
              value: d.match.value,
              events: d.match.events,
              first: isoUtc(d.match.first),
              last: isoUtc(d.match.last),
            };
    options.onMatch({
      rule_id: d.rule.id,
      rule_title: d.rule.title,
      level: d.rule.level,
      file,
      record,
      timestamp,
      event,
    });
  };

  const one = (file: string, record: number, value: unknown): void => {
    events++;
    if (value === null || typeof value !== 'object') return;
    const found = detector.process(prepareEvent(value));
    for (let i = 0; i < found.length; i++) emit(found[i]!, file, record);
    if (options.onProgress !== undefined && (events & 0x3fff) === 0 && progress.bytes >= nextReport) {
      options.onProgress(progress.bytes, total);
      nextReport = progress.bytes + total / 100;
    }
  };
  for (const file of inputs) {
    if (isEvtx(file)) {
      for await (const r of readEvtxFile(file)) one(file, r.recordId, r.event);
    } else {
      // The JSON reader's generator directly: a delegating generator in between cost a promise and an
      // iterator result per event.
      for await (const r of readJsonDocuments(file, progress)) one(file, r.record, r.value);
    }
  }
  for (const d of detector.flush()) emit(d, inputs[inputs.length - 1] ?? '', null);
  options.onProgress?.(total, total);
  return { events, matches, byRule, elapsedMs: now() - started };
}
