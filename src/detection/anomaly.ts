import { invalid } from './errors.js';
import type { PreparedEvent } from './event.js';
import { parseTimespan } from './timespan.js';

type Level = 'informational' | 'low' | 'medium' | 'high' | 'critical';

/**
 * Anomaly baselines: a Firebreak rule type for behaviour no fixed pattern catches (an account exporting
 * far more data than it usually does). Per entity (the `entity` fields), a metric over fixed windows
 * (`count` of events, `sum` of a field, `distinct` values of a field) is compared with a baseline learnt
 * from that entity's history: the median and the median absolute deviation (MAD) of past windows,
 * optionally per hour of the week (`seasonality: hour_of_week`). An alert fires, once per entity and
 * window, as soon as the window's value reaches every configured threshold:
 * - `min_value`: an absolute floor;
 * - `factor`: value >= factor × median;
 * - `mad`: value >= median + mad × 1.4826 × MAD (1.4826 × MAD estimates a standard deviation).
 * Windows without events count as 0 in the history. The state is plain JSON (`exportState`), bounded by
 * `max_entities` (least recently seen evicted) and the history length.
 *
 * ```yaml
 * anomaly:
 *   entity: [user.name]
 *   metric: sum
 *   field: network.bytes
 *   window: 1h
 *   history: 28d
 *   seasonality: hour_of_week
 *   min_history: 4
 *   threshold: { factor: 5, mad: 4, min_value: 500000000 }
 * ```
 */
export interface AnomalySpec {
  readonly entity: readonly string[];
  readonly metric: 'count' | 'sum' | 'distinct';
  readonly field?: string;
  readonly windowMs: number;
  readonly historyMs: number;
  readonly seasonality: 'none' | 'hour_of_week';
  /** Past windows (per slot with seasonality) needed before alerting. */
  readonly minHistory: number;
  readonly factor?: number;
  readonly mad?: number;
  readonly minValue: number;
  readonly maxEntities: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < 0) return invalid(path, 'must be a non-negative number');
  return n;
}

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

/** Validates the `anomaly` section of a rule. Pure; throws SigmaRuleError naming the field. */
export function parseAnomalySpec(raw: unknown): AnomalySpec {
  if (!isObj(raw)) return invalid('anomaly', 'must be a map');
  const entityRaw = raw['entity'];
  const entity =
    typeof entityRaw === 'string' ? [entityRaw] : Array.isArray(entityRaw) ? entityRaw.map(String) : [];
  if (entity.length === 0) invalid('anomaly.entity', 'is required (one or more field names)');
  const metric = raw['metric'] ?? 'count';
  if (metric !== 'count' && metric !== 'sum' && metric !== 'distinct')
    return invalid('anomaly.metric', 'must be count, sum or distinct');
  const field = raw['field'];
  if (metric !== 'count' && typeof field !== 'string')
    invalid('anomaly.field', `is required for metric ${metric}`);
  const windowMs = parseTimespan(raw['window'] ?? '1h', 'anomaly.window');
  const historyMs = parseTimespan(raw['history'] ?? '28d', 'anomaly.history');
  const seasonality = raw['seasonality'] ?? 'none';
  if (seasonality !== 'none' && seasonality !== 'hour_of_week')
    return invalid('anomaly.seasonality', 'must be none or hour_of_week');
  if (seasonality === 'hour_of_week' && (windowMs > HOUR || HOUR % windowMs !== 0)) {
    invalid('anomaly.window', 'must divide one hour when seasonality is hour_of_week');
  }
  if (seasonality === 'hour_of_week' && historyMs < WEEK)
    invalid('anomaly.history', 'must cover at least one week with hour_of_week seasonality');
  if (historyMs < windowMs) invalid('anomaly.history', 'must be at least one window');
  const threshold = raw['threshold'] ?? {};
  if (!isObj(threshold)) return invalid('anomaly.threshold', 'must be a map');
  const factor = num(threshold['factor'], 'anomaly.threshold.factor');
  const mad = num(threshold['mad'], 'anomaly.threshold.mad');
  if (factor === undefined && mad === undefined)
    invalid('anomaly.threshold', 'needs factor or mad (or both)');
  const defaultMin = seasonality === 'hour_of_week' ? 3 : 24;
  return {
    entity,
    metric,
    field: typeof field === 'string' ? field : undefined,
    windowMs,
    historyMs,
    seasonality,
    minHistory: num(raw['min_history'], 'anomaly.min_history') ?? defaultMin,
    factor,
    mad,
    minValue: num(threshold['min_value'], 'anomaly.threshold.min_value') ?? 0,
    maxEntities: num(raw['max_entities'], 'anomaly.max_entities') ?? 100_000,
  };
}

export interface AnomalyAlert {
  readonly rule: { readonly id: string; readonly title: string; readonly level: Level };
  readonly entity: Readonly<Record<string, unknown>>;
  readonly windowStart: number;
  readonly value: number;
  readonly median: number;
  readonly mad: number;
  readonly history: number;
}

/** One entity's state; plain JSON. */
export interface EntityState {
  /** Start of the open window (epoch ms). */
  window: number;
  value: number;
  distinct?: string[];
  alerted: boolean;
  /** Past window values, oldest first; with seasonality one list per hour-of-week slot. */
  history: number[] | Record<string, number[]>;
}

export interface AnomalyState {
  readonly version: 1;
  readonly entities: Record<string, EntityState>;
}

export interface AnomalyMetrics {
  lateDropped: number;
  entitiesEvicted: number;
}

/** Monday 00:00 UTC = slot 0. */
export function hourOfWeek(ms: number): number {
  const day = Math.floor(ms / 86_400_000);
  return ((day + 3) % 7) * 24 + new Date(ms).getUTCHours();
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The robust baseline of a list: its median and median absolute deviation. Pure. */
export function robustBaseline(values: readonly number[]): { median: number; mad: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const m = median(sorted);
  const deviations = sorted.map((v) => Math.abs(v - m)).sort((a, b) => a - b);
  return { median: m, mad: median(deviations) };
}

const MAX_DISTINCT = 100_000;

/**
 * The anomaly state machine for one rule. `observe` takes an event that the rule's selection matched
 * and its time; returns the alerts it raises. Pure apart from its own state.
 */
export class AnomalyDetector {
  readonly metrics: AnomalyMetrics = { lateDropped: 0, entitiesEvicted: 0 };
  private entities = new Map<string, EntityState>();
  private readonly perSlot: number;
  private readonly historyLength: number;

  constructor(
    readonly rule: { readonly id: string; readonly title: string; readonly level: Level },
    readonly spec: AnomalySpec,
  ) {
    this.historyLength = Math.max(1, Math.floor(spec.historyMs / spec.windowMs));
    this.perSlot = Math.max(1, Math.floor(spec.historyMs / WEEK));
  }

  get size(): number {
    return this.entities.size;
  }

  private push(state: EntityState, window: number, value: number): void {
    if (this.spec.seasonality === 'hour_of_week') {
      const slots = state.history as Record<string, number[]>;
      const slot = String(hourOfWeek(window));
      const list = slots[slot] ?? (slots[slot] = []);
      // Several windows per hour share the hour's slot.
      list.push(value);
      const keep = this.perSlot * Math.round(HOUR / this.spec.windowMs);
      if (list.length > keep) list.splice(0, list.length - keep);
    } else {
      const list = state.history as number[];
      list.push(value);
      if (list.length > this.historyLength) list.splice(0, list.length - this.historyLength);
    }
  }

  private baselineFor(state: EntityState, window: number): readonly number[] {
    if (this.spec.seasonality === 'hour_of_week')
      return (state.history as Record<string, number[]>)[String(hourOfWeek(window))] ?? [];
    return state.history as number[];
  }

  /** Feeds one selected event at `time` (epoch ms). */
  observe(event: PreparedEvent, time: number): AnomalyAlert[] {
    const spec = this.spec;
    const values = spec.entity.map((f) => event.get(f));
    if (values.every((v) => v === undefined || v === null)) return [];
    const key = JSON.stringify(values);
    const window = Math.floor(time / spec.windowMs) * spec.windowMs;
    let state = this.entities.get(key);
    if (state === undefined) {
      if (this.entities.size >= spec.maxEntities) {
        const oldest = this.entities.keys().next().value as string;
        this.entities.delete(oldest);
        this.metrics.entitiesEvicted++;
      }
      state = { window, value: 0, alerted: false, history: spec.seasonality === 'hour_of_week' ? {} : [] };
    } else {
      this.entities.delete(key); // re-inserted: least recently seen first
    }
    this.entities.set(key, state);
    if (window < state.window) {
      this.metrics.lateDropped++;
      return [];
    }
    if (window > state.window) {
      // Close the open window, then the empty windows in between (bounded by the history length).
      this.push(state, state.window, state.value);
      const skipped = Math.min(
        (window - state.window) / spec.windowMs - 1,
        spec.seasonality === 'hour_of_week' ? (WEEK / spec.windowMs) * this.perSlot : this.historyLength,
      );
      for (let i = 1; i <= skipped; i++) this.push(state, window - (skipped - i + 1) * spec.windowMs, 0);
      state.window = window;
      state.value = 0;
      state.alerted = false;
      delete state.distinct;
    }
    if (spec.metric === 'count') state.value += 1;
    else if (spec.metric === 'sum') {
      const raw = event.get(spec.field!);
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return [];
      state.value += n;
    } else {
      const raw = event.get(spec.field!);
      if (raw === undefined || raw === null) return [];
      const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
      const distinct = state.distinct ?? (state.distinct = []);
      if (!distinct.includes(text) && distinct.length < MAX_DISTINCT) distinct.push(text);
      state.value = distinct.length;
    }
    if (state.alerted) return [];
    const history = this.baselineFor(state, window);
    if (history.length < spec.minHistory) return [];
    const { median: m, mad } = robustBaseline(history);
    const v = state.value;
    if (v < spec.minValue) return [];
    if (spec.factor !== undefined && v < spec.factor * m) return [];
    if (spec.mad !== undefined && v < m + spec.mad * 1.4826 * mad) return [];
    if (v <= m) return [];
    state.alerted = true;
    const entity: Record<string, unknown> = {};
    spec.entity.forEach((f, i) => (entity[f] = values[i] ?? null));
    return [
      { rule: this.rule, entity, windowStart: window, value: v, median: m, mad, history: history.length },
    ];
  }

  /** The state as JSON-safe data. */
  exportState(): AnomalyState {
    return { version: 1, entities: Object.fromEntries(this.entities) };
  }

  /** Restores a state written by `exportState`. */
  importState(state: AnomalyState): void {
    if (state.version !== 1)
      invalid('state.version', `unsupported anomaly state version ${String(state.version)}`);
    this.entities = new Map(Object.entries(structuredClone(state.entities)));
  }
}
