import type { PreparedEvent } from './event.js';
import type { RuleInfo, SigmaCorrelationRuleWithInfo } from './rule-set.js';
import type { CorrelationCondition, CorrelationType } from './sigma-rule.js';

/**
 * Sigma correlation rules as a pure, bounded state machine.
 *
 * Per correlation and group (the `group-by` values, through `aliases`), the engine keeps the recent
 * matches of the referenced rules sorted by event time, so events may arrive out of order. A match is
 * reported when the events of the trailing `timespan` at some event ([t - timespan, t]) satisfy the
 * condition; the group's state is then cleared, so one burst yields one alert.
 *
 * - Conditions that more events can only make true (`gt`, `gte` on counts, sums and distinct counts;
 *   every condition on temporal, avg, min, max, median and percentile) are checked on every insert, over
 *   every trailing window that contains the new event (one window when events arrive in order).
 * - Conditions that more events can make false (`lt`, `lte`, `eq`, `neq` on event_count, value_count and
 *   value_sum) are checked when a window closes: when the watermark (the latest event time seen minus
 *   `allowedLatenessMs`) passes the window's end, and at `flush()`.
 * - An event older than the watermark minus the timespan is late: it is dropped and counted. State keeps
 *   two timespans of events behind the watermark, the most a window of an accepted event can reach.
 * - Bounds: at most `maxGroups` groups per correlation (the least recently updated is evicted) and
 *   `maxEventsPerGroup` events per group (the oldest is dropped); every drop is counted in `metrics`.
 */
export interface CorrelationLimits {
  readonly maxGroups: number;
  readonly maxEventsPerGroup: number;
  readonly allowedLatenessMs: number;
}

export const DEFAULT_CORRELATION_LIMITS: CorrelationLimits = {
  maxGroups: 100_000,
  maxEventsPerGroup: 10_000,
  allowedLatenessMs: 0,
};

export interface CorrelationMetrics {
  lateDropped: number;
  groupsEvicted: number;
  eventsDropped: number;
}

export interface CorrelationMatch {
  readonly correlation: RuleInfo;
  readonly group: Readonly<Record<string, unknown>>;
  /** The aggregate that satisfied the condition (count, distinct count, sum, ...). */
  readonly value: number;
  /** Events in the window. */
  readonly events: number;
  /** Time of the window's first and last event (epoch ms). */
  readonly first: number;
  readonly last: number;
}

interface Item {
  readonly t: number;
  /** Index of the referenced rule in the correlation's `rules` list. */
  readonly rule: number;
  readonly value: unknown;
}

interface Group {
  readonly key: string;
  readonly values: readonly unknown[];
  items: Item[];
}

/** Serialisable state (JSON-safe). */
export interface CorrelationState {
  readonly watermark: number;
  readonly correlations: Record<
    string,
    Array<{ key: string; values: unknown[]; items: Array<[number, number, unknown]> }>
  >;
}

const CLOSE_TYPES = new Set<CorrelationType>(['event_count', 'value_count', 'value_sum']);

function satisfies(condition: CorrelationCondition, value: number): boolean {
  if (condition.gt !== undefined && !(value > condition.gt)) return false;
  if (condition.gte !== undefined && !(value >= condition.gte)) return false;
  if (condition.lt !== undefined && !(value < condition.lt)) return false;
  if (condition.lte !== undefined && !(value <= condition.lte)) return false;
  if (condition.eq !== undefined && value !== condition.eq) return false;
  if (condition.neq !== undefined && value === condition.neq) return false;
  return true;
}

function numeric(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

class CompiledCorrelation {
  readonly groups = new Map<string, Group>();
  readonly onClose: boolean;
  /** Referenced rule refs (id or name) -> index in `rules`. */
  readonly refIndex = new Map<string, number[]>();

  constructor(readonly def: SigmaCorrelationRuleWithInfo) {
    const c = def.source;
    this.onClose =
      CLOSE_TYPES.has(c.type) &&
      (c.condition.lt !== undefined ||
        c.condition.lte !== undefined ||
        c.condition.eq !== undefined ||
        c.condition.neq !== undefined);
    c.rules.forEach((ref, i) => {
      const list = this.refIndex.get(ref) ?? [];
      list.push(i);
      this.refIndex.set(ref, list);
    });
  }

  get span(): number {
    return this.def.source.timespanMs;
  }

  fieldFor(field: string, ruleIndex: number): string {
    const alias = this.def.source.aliases[field];
    if (alias === undefined) return field;
    const ref = this.def.source.rules[ruleIndex]!;
    return alias[ref] ?? field;
  }

  /** The aggregate over items[from, to), and whether it satisfies the condition. */
  evaluate(items: readonly Item[], from: number, to: number): { ok: boolean; value: number } {
    const c = this.def.source;
    const n = to - from;
    switch (c.type) {
      case 'event_count':
        return { ok: satisfies(c.condition, n), value: n };
      case 'value_count': {
        const seen = new Set<string>();
        for (let i = from; i < to; i++) {
          const v = items[i]!.value;
          if (v !== undefined && v !== null) seen.add(typeof v === 'string' ? v : JSON.stringify(v));
        }
        return { ok: satisfies(c.condition, seen.size), value: seen.size };
      }
      case 'temporal':
      case 'temporal_ordered': {
        let count: number;
        if (c.type === 'temporal') {
          const rules = new Set<number>();
          for (let i = from; i < to; i++) rules.add(items[i]!.rule);
          count = rules.size;
        } else {
          // Longest prefix of the rule list found in order.
          count = 0;
          for (let i = from; i < to && count < c.rules.length; i++) if (items[i]!.rule === count) count++;
        }
        const hasCondition = Object.keys(c.condition).some((k) => k !== 'field');
        const ok = hasCondition ? satisfies(c.condition, count) : count === c.rules.length;
        return { ok, value: count };
      }
      default: {
        const values: number[] = [];
        for (let i = from; i < to; i++) {
          const v = numeric(items[i]!.value);
          if (v !== undefined) values.push(v);
        }
        if (values.length === 0) return { ok: false, value: NaN };
        let value: number;
        if (c.type === 'value_sum') value = values.reduce((a, b) => a + b, 0);
        else if (c.type === 'value_avg') value = values.reduce((a, b) => a + b, 0) / values.length;
        else if (c.type === 'value_min') value = Math.min(...values);
        else if (c.type === 'value_max') value = Math.max(...values);
        else {
          values.sort((a, b) => a - b);
          value = percentile(values, c.type === 'value_median' ? 50 : (c.condition.percentile ?? 50));
        }
        return { ok: satisfies(c.condition, value), value };
      }
    }
  }
}

function upperBound(items: readonly Item[], t: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid]!.t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBound(items: readonly Item[], t: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type Plan = ReadonlyArray<readonly [CompiledCorrelation, readonly number[]]>;

/** Runs correlation rules over the matches of the rules they reference. Pure; time comes from events. */
export class CorrelationEngine {
  readonly metrics: CorrelationMetrics = { lateDropped: 0, groupsEvicted: 0, eventsDropped: 0 };
  private readonly correlations: CompiledCorrelation[];
  /** Rule ref (id or name) -> correlations referencing it. */
  private readonly byRef = new Map<string, CompiledCorrelation[]>();
  /** Rule id -> rule name -> what a match of that rule feeds (see planFor). */
  private readonly plans = new Map<string, Map<string | undefined, Plan>>();
  private watermark = -Infinity;
  private nextSweep = -Infinity;
  private readonly limits: CorrelationLimits;

  constructor(definitions: readonly SigmaCorrelationRuleWithInfo[], limits: Partial<CorrelationLimits> = {}) {
    this.limits = { ...DEFAULT_CORRELATION_LIMITS, ...limits };
    this.correlations = definitions.map((d) => new CompiledCorrelation(d));
    for (const c of this.correlations) {
      for (const ref of c.refIndex.keys()) {
        const list = this.byRef.get(ref) ?? [];
        list.push(c);
        this.byRef.set(ref, list);
      }
    }
  }

  /** True when some correlation references the rule (by id or name). */
  references(rule: RuleInfo): boolean {
    return this.byRef.has(rule.id) || (rule.name !== undefined && this.byRef.has(rule.name));
  }

  /** Number of groups and stored events, for state-size reporting. */
  size(): { groups: number; events: number } {
    let groups = 0;
    let events = 0;
    for (const c of this.correlations) {
      groups += c.groups.size;
      for (const g of c.groups.values()) events += g.items.length;
    }
    return { groups, events };
  }

  /**
   * Feeds one match of `rule` on `event` at `time` (epoch ms). Returns the correlations it completes,
   * including windows closed by the advancing watermark.
   */
  observe(rule: RuleInfo, event: PreparedEvent, time: number): CorrelationMatch[] {
    const out: CorrelationMatch[] = [];
    if (time > this.watermark + this.limits.allowedLatenessMs)
      this.watermark = time - this.limits.allowedLatenessMs;
    for (const [c, indexes] of this.planFor(rule)) {
      for (const ruleIndex of indexes) {
        const match = this.insert(c, ruleIndex, event, time);
        if (match !== null) out.push(match);
      }
    }
    if (this.watermark >= this.nextSweep) out.push(...this.sweep(false));
    return out;
  }

  /**
   * Which correlations a match of `rule` feeds, and as which of their rules: worked out once per rule
   * id and name (it was rebuilt, with three arrays and a set, for every match).
   */
  private planFor(rule: RuleInfo): Plan {
    let byName = this.plans.get(rule.id);
    if (byName === undefined) {
      byName = new Map();
      this.plans.set(rule.id, byName);
    }
    let plan = byName.get(rule.name);
    if (plan === undefined) {
      const targets = [
        ...(this.byRef.get(rule.id) ?? []),
        ...(rule.name !== undefined && rule.name !== rule.id ? (this.byRef.get(rule.name) ?? []) : []),
      ];
      plan = targets.map((c): [CompiledCorrelation, readonly number[]] => [
        c,
        [
          ...new Set([
            ...(c.refIndex.get(rule.id) ?? []),
            ...(rule.name !== undefined ? (c.refIndex.get(rule.name) ?? []) : []),
          ]),
        ],
      ]);
      byName.set(rule.name, plan);
    }
    return plan;
  }

  private insert(
    c: CompiledCorrelation,
    ruleIndex: number,
    event: PreparedEvent,
    time: number,
  ): CorrelationMatch | null {
    if (time < this.watermark - c.span) {
      this.metrics.lateDropped++;
      return null;
    }
    const groupBy = c.def.source.groupBy;
    const values = groupBy.map((f) => {
      const v = event.get(c.fieldFor(f, ruleIndex));
      return v === undefined ? null : v;
    });
    const key = JSON.stringify(values);
    let group = c.groups.get(key);
    if (group === undefined) {
      if (c.groups.size >= this.limits.maxGroups) {
        const oldest = c.groups.keys().next().value as string;
        c.groups.delete(oldest);
        this.metrics.groupsEvicted++;
      }
      group = { key, values, items: [] };
    } else {
      c.groups.delete(key); // re-inserted below: Map order is least recently updated first
    }
    c.groups.set(key, group);
    const field = c.def.source.condition.field;
    const value = field === undefined ? undefined : event.get(c.fieldFor(field, ruleIndex));
    const items = group.items;
    // Events of the same instant have no order of their own: they are kept in the order of the
    // correlation's rule list, so one event matching several rules of a temporal_ordered correlation
    // counts in the listed order whichever rule the matcher reported first.
    let at = upperBound(items, time);
    while (at > 0 && items[at - 1]!.t === time && items[at - 1]!.rule > ruleIndex) at--;
    items.splice(at, 0, { t: time, rule: ruleIndex, value });
    // Forget what no future window can use: an accepted event is at most one timespan older than the
    // watermark, and its windows reach back one more timespan.
    const horizon = lowerBound(items, this.watermark - 2 * c.span);
    if (horizon > 0 && !c.onClose) items.splice(0, horizon);
    if (items.length > this.limits.maxEventsPerGroup) {
      items.splice(0, items.length - this.limits.maxEventsPerGroup);
      this.metrics.eventsDropped++;
    }
    if (c.onClose) return null;
    // Windows are the trailing timespan at an event: [t_e - span, t_e]. Those holding the new event end
    // at an event within [time, time + span].
    const first = lowerBound(items, time);
    const last = upperBound(items, time + c.span);
    for (let e = first; e < last; e++) {
      const end = e + 1;
      const start = lowerBound(items, items[e]!.t - c.span);
      const result = c.evaluate(items, start, end);
      if (result.ok) {
        const match = this.report(c, group, start, end, result.value);
        c.groups.delete(key);
        return match;
      }
    }
    return null;
  }

  private report(
    c: CompiledCorrelation,
    group: Group,
    from: number,
    to: number,
    value: number,
  ): CorrelationMatch {
    const groupOut: Record<string, unknown> = {};
    c.def.source.groupBy.forEach((f, i) => (groupOut[f] = group.values[i]));
    return {
      correlation: c.def.info,
      group: groupOut,
      value,
      events: to - from,
      first: group.items[from]!.t,
      last: group.items[to - 1]!.t,
    };
  }

  /** Closes the windows the watermark has passed (all of them when `all`), for close-checked conditions. */
  private sweep(all: boolean): CorrelationMatch[] {
    const out: CorrelationMatch[] = [];
    let soonest = Infinity;
    for (const c of this.correlations) {
      if (!c.onClose) continue;
      for (const group of [...c.groups.values()]) {
        const items = group.items;
        while (items.length > 0) {
          const start = items[0]!.t;
          if (!all && start + c.span >= this.watermark) {
            soonest = Math.min(soonest, start + c.span);
            break;
          }
          const end = upperBound(items, start + c.span);
          const result = c.evaluate(items, 0, end);
          if (result.ok) out.push(this.report(c, group, 0, end, result.value));
          items.splice(0, end);
        }
        if (items.length === 0) c.groups.delete(group.key);
      }
    }
    this.nextSweep = soonest;
    return out;
  }

  /** End of input: closes every open window. */
  flush(): CorrelationMatch[] {
    return this.sweep(true);
  }

  /** The state as JSON-safe data (for checkpoints). */
  exportState(): CorrelationState {
    const correlations: CorrelationState['correlations'] = {};
    for (const c of this.correlations) {
      correlations[c.def.info.id] = [...c.groups.values()].map((g) => ({
        key: g.key,
        values: [...g.values],
        items: g.items.map((i): [number, number, unknown] => [i.t, i.rule, i.value ?? null]),
      }));
    }
    return { watermark: Number.isFinite(this.watermark) ? this.watermark : -1e15, correlations };
  }

  /** Restores state written by `exportState` (correlations no longer defined are ignored). */
  importState(state: CorrelationState): void {
    this.watermark = state.watermark;
    this.nextSweep = -Infinity;
    for (const c of this.correlations) {
      c.groups.clear();
      for (const g of state.correlations[c.def.info.id] ?? []) {
        c.groups.set(g.key, {
          key: g.key,
          values: g.values,
          items: g.items.map(([t, rule, value]) => ({ t, rule, value })),
        });
      }
    }
  }
}
