/**
 * The CPU work of the event pipeline on one batch, with no I/O: decode the spooled records, normalise
 * them, run each organisation's detector, and build the rows and observable sightings to store. It
 * runs in a worker thread beside the thread that owns the sockets, the spool and the database
 * (batch-processor.ts), so parsing and detection do not compete with storing.
 *
 * Everything that crosses the thread boundary is plain data: records in, rows, sightings, detection
 * records and exported state out; rule sources, saved state and suppressions in when they change.
 */
import { normaliseObservable } from '../core/observable.js';
import { Detector } from '../detection/detector.js';
import { prepareEvent, type PreparedEvent } from '../detection/event.js';
import type { LogsourceMapping } from '../detection/logsource.js';
import {
  exportDetectorState,
  importDetectorState,
  toDetectionRecord,
  type DetectionRecord,
  type DetectionState,
  type SuppressionMatch,
} from '../services/detections.js';
import { compileStoredRules, type StoredRuleSource } from '../services/rules.js';
import type { EventSightingBatch, IngestSubmission } from '../storage/event-repository.js';
import type { EventTable } from '../storage/schema.js';
import { encodeStoredFields } from '../storage/stored-fields.js';
import { detectionDocument } from './detection-document.js';
import type { ExtractedObservable, NormalisedEvent, ReceivedEvent } from './event-record.js';
import { decodeSpooledEvent } from './spool/event-codec.js';
import type { SpooledText } from './spool/spool.js';

export type { SpooledText };

export interface PipelineItem {
  readonly position: number;
  readonly event: ReceivedEvent;
  readonly normalised: NormalisedEvent;
}

/** An organisation's rules, to (re)build its detector; `state` seeds a detector the core does not hold. */
export interface OrgDetectionSetup {
  readonly orgId: string;
  /** ActiveRuleSet key: equal keys, equal rules. */
  readonly key: string;
  readonly rules: readonly StoredRuleSource[];
  readonly mapping: LogsourceMapping;
  readonly state: DetectionState | null;
}

/** What the detection side sends with a batch: only what changed since the core last heard. */
export interface DetectionInputs {
  readonly setups: readonly OrgDetectionSetup[];
  /** Suppressions in force, for the organisations whose list changed. */
  readonly suppressions: Readonly<Record<string, readonly SuppressionMatch[]>>;
}

export interface BatchRequest {
  readonly records: readonly SpooledText[];
  /** `warm`: rebuild detection state from already stored events, producing nothing. */
  readonly mode: 'live' | 'warm';
  /** Null: store the events without detection. */
  readonly detection: DetectionInputs | null;
  /** Export every organisation's detection state after this batch (for a checkpoint). */
  readonly exportState: boolean;
  /** Set on the first batch sent again after a refusal (see BatchResult.refused). */
  readonly resume?: boolean;
}

export interface OrgDetectionRecords {
  readonly orgId: string;
  readonly records: readonly DetectionRecord[];
}

export interface BatchResult {
  /**
   * True when nothing was done: the batch names organisations the core has no rules for (`missing`),
   * or an earlier batch did. Every later batch is refused too until one comes with `resume`, so
   * batches are never processed out of order: send the setups and the batches again, the first with
   * `resume`.
   */
  readonly refused: boolean;
  /** Organisations of a refused batch the core has no rules for. */
  readonly missing: readonly string[];
  readonly rows: readonly EventTable[];
  readonly sightings: readonly EventSightingBatch[];
  readonly detections: readonly OrgDetectionRecords[];
  /** Exported states (JSON), when asked. */
  readonly states: ReadonlyArray<{ readonly orgId: string; readonly json: string }> | null;
  readonly events: number;
  /** Records that could not be decoded (a damaged spool): skipped, counted. */
  readonly undecodable: number;
  /** Messages of normaliser failures (the parsers promise never to throw; the events are kept raw). */
  readonly normaliseErrors: readonly string[];
  /** Keyed submissions whose first event is in this batch (see ReceivedEvent.submission). */
  readonly submissions: readonly IngestSubmission[];
  /** What the detectors dropped to stay bounded, counted since each was built (summed over organisations). */
  readonly drops: DetectionDrops;
}

export interface DetectionDrops {
  /** Events older than a correlation's or baseline's window when they arrived. */
  readonly lateEvents: number;
  /** Least recently updated correlation groups evicted at the per-rule bound. */
  readonly correlationGroupsEvicted: number;
  /** Oldest events dropped from a correlation group at its bound. */
  readonly correlationEventsDropped: number;
  /** Least recently seen entities evicted from an anomaly baseline at its bound. */
  readonly anomalyEntitiesEvicted: number;
}

function fallback(event: ReceivedEvent): NormalisedEvent {
  const message = typeof event.raw === 'string' ? event.raw : undefined;
  return {
    timestamp: event.receivedAt,
    parser: 'raw',
    fields: { '@timestamp': event.receivedAt, ...(message !== undefined ? { message } : {}) },
    observables: [],
  };
}

/** Event times are compared as text in storage: always the same ISO form (`2026-11-27T04:00:00.000Z`). */
function isoOrReceived(timestamp: string, receivedAt: string): string {
  if (
    timestamp.length === 24 &&
    timestamp.charCodeAt(23) === 90 /* Z */ &&
    timestamp.charCodeAt(10) === 84 /* T */
  ) {
    return timestamp;
  }
  const ms = Date.parse(timestamp);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : receivedAt;
}

export function eventRow(item: PipelineItem): EventTable {
  const { event, normalised } = item;
  return {
    id: event.id,
    org_id: event.orgId,
    received_at: event.receivedAt,
    timestamp: isoOrReceived(normalised.timestamp, event.receivedAt),
    source_kind: event.source.kind,
    source_name: event.source.name ?? null,
    source_peer: event.source.peer ?? null,
    format: event.format,
    parser: normalised.parser,
    // The message is searched through the raw text; the column stays for a future full-text index.
    message: null,
    fields: encodeStoredFields(normalised.fields),
    raw: typeof event.raw === 'string' ? event.raw : JSON.stringify(event.raw),
    raw_is_json: typeof event.raw === 'string' ? 0 : 1,
  };
}

/**
 * Observable normalisation memoised by type and written form (a pure cache, emptied whole at its
 * bound): the same users, hosts and addresses recur from batch to batch.
 */
export class ObservableMemo {
  private readonly byType = new Map<string, Map<string, string | null>>();
  private size = 0;

  constructor(private readonly bound = 100_000) {}

  /** The normalised value, or null when it does not normalise. */
  normalised(type: ExtractedObservable['type'], written: string): string | null {
    let values = this.byType.get(type);
    if (values === undefined) {
      values = new Map();
      this.byType.set(type, values);
    }
    let value = values.get(written);
    if (value === undefined) {
      try {
        value = normaliseObservable(type, written);
      } catch {
        value = null;
      }
      if (this.size >= this.bound) {
        for (const map of this.byType.values()) map.clear();
        this.size = 0;
      }
      values.set(written, value);
      this.size++;
    }
    return value;
  }
}

type SightingEntry = { -readonly [K in keyof EventSightingBatch]: EventSightingBatch[K] };

/**
 * The observables of a batch, one entry per organisation, type and normalised value: the store is
 * written once per value per batch, not once per event. Values that do not normalise are skipped.
 */
export function sightingsOf(
  items: readonly PipelineItem[],
  memo = new ObservableMemo(),
): EventSightingBatch[] {
  // Organisation, then type, then value: nested maps, so no key string is built per observable.
  const byOrg = new Map<string, Map<string, Map<string, SightingEntry>>>();
  const out: SightingEntry[] = [];
  for (const { event, normalised } of items) {
    if (normalised.observables.length === 0) continue;
    const at = isoOrReceived(normalised.timestamp, event.receivedAt);
    let byType = byOrg.get(event.orgId);
    if (byType === undefined) {
      byType = new Map();
      byOrg.set(event.orgId, byType);
    }
    for (const observable of normalised.observables) {
      const value = memo.normalised(observable.type, observable.value);
      if (value === null) continue;
      let byValue = byType.get(observable.type);
      if (byValue === undefined) {
        byValue = new Map();
        byType.set(observable.type, byValue);
      }
      const seen = byValue.get(value);
      if (seen === undefined) {
        const entry: SightingEntry = {
          orgId: event.orgId,
          type: observable.type,
          value,
          firstSeen: at,
          lastSeen: at,
          count: 1,
          lastEventId: event.id,
        };
        byValue.set(value, entry);
        out.push(entry);
      } else {
        seen.count += 1;
        if (at < seen.firstSeen) seen.firstSeen = at;
        if (at >= seen.lastSeen) {
          seen.lastSeen = at;
          seen.lastEventId = event.id;
        }
      }
    }
  }
  return out;
}

interface OrgDetector {
  readonly key: string;
  readonly detector: Detector;
  suppressions: readonly SuppressionMatch[];
}

const NO_DROPS: DetectionDrops = {
  lateEvents: 0,
  correlationGroupsEvicted: 0,
  correlationEventsDropped: 0,
  anomalyEntitiesEvicted: 0,
};

const EMPTY_RESULT = {
  drops: NO_DROPS,
  rows: [],
  sightings: [],
  detections: [],
  states: null,
  events: 0,
  undecodable: 0,
  normaliseErrors: [],
  submissions: [],
} as const;

export type Normaliser = (event: ReceivedEvent) => NormalisedEvent;

/** Holds each organisation's detector (and its state) between batches. Not thread-safe: one caller. */
export class BatchCore {
  private readonly detectors = new Map<string, OrgDetector>();
  private refusing = false;
  private readonly observables = new ObservableMemo();

  /** `detect: false` stores events without detection (no detection side configured). */
  constructor(
    private readonly normalise: Normaliser,
    private readonly detect = true,
  ) {}

  /** Forgets every detector and its state (the pipeline restarts from its checkpoint). */
  reset(): void {
    this.detectors.clear();
    this.refusing = false;
  }

  process(request: BatchRequest): BatchResult {
    if (request.resume) this.refusing = false;
    if (request.detection) this.apply(request.detection);
    const normaliseErrors: string[] = [];
    const submissions: IngestSubmission[] = [];
    let undecodable = 0;
    const items: PipelineItem[] = [];
    for (const record of request.records) {
      let event: ReceivedEvent;
      try {
        event = decodeSpooledEvent(record.text);
      } catch {
        undecodable++;
        continue;
      }
      if (event.submission !== undefined) {
        const { key, events } = event.submission;
        submissions.push({ orgId: event.orgId, key, events, receivedAt: event.receivedAt });
      }
      let normalised: NormalisedEvent;
      try {
        normalised = this.normalise(event);
      } catch (error) {
        if (normaliseErrors.length < 10) normaliseErrors.push((error as Error).message);
        normalised = fallback(event);
      }
      items.push({ position: record.position, event, normalised });
    }

    let detections: OrgDetectionRecords[] = [];
    // No detection inputs: the pipeline runs without detection (or asks only for the state).
    if (this.detect && request.detection !== null) {
      const missing = this.missingOrgs(items);
      if (missing.length > 0 || this.refusing) {
        this.refusing = true;
        return { ...EMPTY_RESULT, refused: true, missing };
      }
      detections = this.runDetection(items, request.mode === 'warm');
    }
    const states = request.exportState ? this.exportStates() : null;
    const drops = this.drops();
    if (request.mode === 'warm')
      return { ...EMPTY_RESULT, refused: false, missing: [], states, events: items.length, drops };
    return {
      drops,
      refused: false,
      missing: [],
      rows: items.map(eventRow),
      sightings: sightingsOf(items, this.observables),
      detections,
      states,
      events: items.length,
      undecodable,
      normaliseErrors,
      submissions,
    };
  }

  private apply(inputs: DetectionInputs): void {
    for (const setup of inputs.setups) {
      const current = this.detectors.get(setup.orgId);
      if (current?.key === setup.key) continue;
      const detector = new Detector(compileStoredRules(setup.rules, setup.mapping).set);
      // Correlation windows and baselines carry over a rule change; a new detector starts from the
      // saved state.
      const state = current ? exportDetectorState(current.detector, current.key) : setup.state;
      if (state) importDetectorState(detector, state);
      this.detectors.set(setup.orgId, {
        key: setup.key,
        detector,
        suppressions: current?.suppressions ?? [],
      });
    }
    for (const [orgId, list] of Object.entries(inputs.suppressions)) {
      const held = this.detectors.get(orgId);
      if (held) held.suppressions = list;
    }
  }

  private missingOrgs(items: readonly PipelineItem[]): string[] {
    const missing = new Set<string>();
    for (const item of items) if (!this.detectors.has(item.event.orgId)) missing.add(item.event.orgId);
    return [...missing];
  }

  private runDetection(items: readonly PipelineItem[], warm: boolean): OrgDetectionRecords[] {
    const byOrg = new Map<string, PipelineItem[]>();
    for (const item of items) {
      const list = byOrg.get(item.event.orgId);
      if (list) list.push(item);
      else byOrg.set(item.event.orgId, [item]);
    }
    const out: OrgDetectionRecords[] = [];
    for (const [orgId, list] of byOrg) {
      const held = this.detectors.get(orgId)!;
      const records: DetectionRecord[] = [];
      for (const item of list) {
        const prepared = prepareEvent(detectionDocument(item.event, item.normalised));
        const found = held.detector.process(prepared);
        if (warm || found.length === 0) continue;
        const describeEvent = (event: PreparedEvent) =>
          event === prepared ? { id: item.event.id, observables: item.normalised.observables } : undefined;
        for (const detection of found)
          records.push(toDetectionRecord(detection, held.suppressions, { describeEvent }));
      }
      if (records.length > 0) out.push({ orgId, records });
    }
    return out;
  }

  private drops(): DetectionDrops {
    let lateEvents = 0;
    let correlationGroupsEvicted = 0;
    let correlationEventsDropped = 0;
    let anomalyEntitiesEvicted = 0;
    for (const { detector } of this.detectors.values()) {
      const c = detector.correlations.metrics;
      lateEvents += c.lateDropped;
      correlationGroupsEvicted += c.groupsEvicted;
      correlationEventsDropped += c.eventsDropped;
      for (const anomaly of detector.anomalies.values()) {
        lateEvents += anomaly.metrics.lateDropped;
        anomalyEntitiesEvicted += anomaly.metrics.entitiesEvicted;
      }
    }
    return { lateEvents, correlationGroupsEvicted, correlationEventsDropped, anomalyEntitiesEvicted };
  }

  private exportStates(): Array<{ orgId: string; json: string }> {
    return [...this.detectors].map(([orgId, held]) => ({
      orgId,
      json: JSON.stringify(exportDetectorState(held.detector, held.key)),
    }));
  }
}
