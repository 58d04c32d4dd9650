import { AnomalyDetector, type AnomalyAlert } from './anomaly.js';
import { CorrelationEngine, type CorrelationLimits, type CorrelationMatch } from './correlation.js';
import { SigmaMatcher, type EngineOptions } from './engine.js';
import { prepareEvent, type PreparedEvent } from './event.js';
import type { CompiledRule, RuleInfo, RuleSet } from './rule-set.js';

const asPrepared = (event: PreparedEvent): PreparedEvent => event;

/**
 * A detection: a rule matching an event, an anomaly baseline exceeded, or a correlation completing. `E` is
 * how the event is held: prepared, or (a hunt on worker threads) the text the main thread parses only
 * when something needs its fields.
 */
export type Detection<E = PreparedEvent> =
  | {
      readonly kind: 'rule';
      readonly rule: RuleInfo;
      readonly event: E;
      readonly timestamp: number | undefined;
    }
  | {
      readonly kind: 'correlation';
      readonly rule: RuleInfo;
      readonly timestamp: number;
      readonly match: CorrelationMatch;
    }
  | {
      readonly kind: 'anomaly';
      readonly rule: RuleInfo;
      readonly event: E;
      readonly timestamp: number;
      readonly alert: AnomalyAlert;
    };

export interface DetectorOptions extends EngineOptions {
  readonly correlation?: Partial<CorrelationLimits>;
}

/**
 * The whole engine over one stream of events: Sigma rules (with their filters), then the correlations
 * that reference them (and correlations of correlations). Events without a time use the latest time seen.
 * Pure; the state lives in the instance (see `correlations.exportState()`).
 */
export class Detector {
  readonly matcher: SigmaMatcher;
  readonly correlations: CorrelationEngine;
  private lastTime = 0;
  /** One baseline state machine per anomaly rule, by rule id. */
  readonly anomalies = new Map<string, AnomalyDetector>();

  constructor(
    readonly set: RuleSet,
    options: DetectorOptions = {},
  ) {
    this.matcher = new SigmaMatcher(set.rules, options);
    this.correlations = new CorrelationEngine(set.correlations, options.correlation);
    for (const rule of set.rules) {
      if (rule.anomaly !== undefined)
        this.anomalies.set(rule.info.id, new AnomalyDetector(rule.info, rule.anomaly));
    }
  }

  /** Runs one event through the rules and correlations. */
  process(event: PreparedEvent): Detection[] {
    const rules = this.matcher.match(event);
    if (rules.length === 0) return [];
    return this.resolve(rules, event.timestamp(), event, asPrepared);
  }

  /**
   * What the rules one event matched report, in order: each rule's match (unless a correlation holds it
   * back), its anomaly alerts, the correlations it completes. The matching may have run elsewhere (a
   * worker thread); `prepare` gives the event's fields to the anomaly baselines and correlations that
   * need them, and is called only then.
   */
  resolve<E>(
    rules: readonly CompiledRule[],
    timestamp: number | undefined,
    event: E,
    prepare: (event: E) => PreparedEvent,
  ): Detection<E>[] {
    const out: Detection<E>[] = [];
    if (timestamp !== undefined && timestamp > this.lastTime) this.lastTime = timestamp;
    for (const rule of rules) {
      if (rule.emit) out.push({ kind: 'rule', rule: rule.info, event, timestamp });
      if (rule.anomaly !== undefined) {
        const time = timestamp ?? this.lastTime;
        for (const alert of this.anomalies.get(rule.info.id)!.observe(prepare(event), time))
          out.push({ kind: 'anomaly', rule: rule.info, event, timestamp: time, alert });
      }
      if (this.correlations.references(rule.info)) {
        this.chain(this.correlations.observe(rule.info, prepare(event), timestamp ?? this.lastTime), out, 0);
      }
    }
    return out;
  }

  private chain<E>(matches: CorrelationMatch[], out: Detection<E>[], depth: number): void {
    for (const m of matches) {
      out.push({ kind: 'correlation', rule: m.correlation, timestamp: m.last, match: m });
      if (depth < 8 && this.correlations.references(m.correlation)) {
        // A correlation of correlations sees the group values as the event's fields.
        this.chain(
          this.correlations.observe(m.correlation, prepareEvent({ ...m.group }), m.last),
          out,
          depth + 1,
        );
      }
    }
  }

  /** End of input: closes open correlation windows. */
  flush(): Detection[] {
    const out: Detection[] = [];
    this.chain(this.correlations.flush(), out, 0);
    return out;
  }
}
