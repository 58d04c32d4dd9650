import type { ServiceContext, UnitOfWork } from '../services/context.js';
import {
  loadDetectionState,
  recordDetectionRecordsIn,
  type SuppressionMatch,
} from '../services/detections.js';
import { loadActiveRuleSources } from '../services/rules.js';
import { readCheckpoint, writeCheckpoint } from '../storage/event-repository.js';
import { activeSuppressions, saveStateJson } from '../storage/rule-repository.js';
import type { DetectionInputs, OrgDetectionRecords, OrgDetectionSetup } from './batch-core.js';
import type { DetectionStage } from './pipeline.js';

/** The checkpoint row naming the spool position the saved detection states reflect. */
const STATE_CHECKPOINT = 'detection-state';

/** Suppressions are read again at least this often (they expire with time, not only by changes). */
const SUPPRESSIONS_TTL_MS = 5000;

interface OrgKnown {
  /** The rule-set key the processor holds. */
  key: string;
  /** The suppressions sent last (JSON, to notice changes) and when they were read. */
  suppressions: string;
  suppressionsReadAt: number;
}

/**
 * Live detection in the pipeline, database side: each organisation's enabled rules go to the batch
 * processor (again when they change, state carried across there), with its saved state the first
 * time and its suppressions in force; the alerts it finds are recorded in the pipeline's transaction,
 * and its state is checkpointed with a spool position.
 */
export class RuleDetectionStage implements DetectionStage {
  /** What the processor holds, per organisation. */
  private readonly known = new Map<string, OrgKnown>();
  /** Organisations the processor asked for and has not been sent yet. */
  private readonly wanted = new Set<string>();
  /** Counters for metrics and benchmarks. */
  readonly counts = { detections: 0 };

  constructor(private readonly context: ServiceContext) {
    // A suppression added or lifted applies from the next batch sent (from this process, and on
    // PostgreSQL from the others through the change feed).
    context.listeners.add((event) => {
      if (!event.action.startsWith('suppression.')) return;
      const known = this.known.get(event.orgId);
      if (known) known.suppressionsReadAt = 0;
    });
  }

  async restore(): Promise<number> {
    // The processor was reset: every organisation's rules and saved state go again on first use.
    this.known.clear();
    return (await readCheckpoint(this.context.database.db, STATE_CHECKPOINT)) ?? 0;
  }

  addOrganisations(orgIds: readonly string[]): void {
    for (const orgId of orgIds) if (!this.known.has(orgId)) this.wanted.add(orgId);
  }

  async inputs(): Promise<DetectionInputs> {
    const setups: OrgDetectionSetup[] = [];
    const suppressions: Record<string, readonly SuppressionMatch[]> = {};
    const now = Date.now();
    for (const orgId of new Set([...this.known.keys(), ...this.wanted])) {
      const sources = await loadActiveRuleSources(this.context, orgId);
      let known = this.known.get(orgId);
      if (known?.key !== sources.key) {
        setups.push({
          orgId,
          key: sources.key,
          rules: sources.rules,
          mapping: sources.mapping,
          state: known ? null : await loadDetectionState(this.context, orgId),
        });
        known = known ?? { key: sources.key, suppressions: '', suppressionsReadAt: 0 };
        known.key = sources.key;
        this.known.set(orgId, known);
      }
      if (now - known.suppressionsReadAt >= SUPPRESSIONS_TTL_MS || setups.at(-1)?.orgId === orgId) {
        // In force by the service clock (tests move it); re-read by wall time.
        const at = this.context.clock.now().toISOString();
        const list = (await activeSuppressions(this.context.database.db, orgId, at)).map(
          ({ id, ruleId, field, value }) => ({ id, ruleId, field, value }),
        );
        const json = JSON.stringify(list);
        known.suppressionsReadAt = now;
        if (json !== known.suppressions) {
          known.suppressions = json;
          suppressions[orgId] = list;
        }
      }
    }
    this.wanted.clear();
    return { setups, suppressions };
  }

  async record(unit: UnitOfWork, detections: readonly OrgDetectionRecords[]): Promise<void> {
    for (const { orgId, records } of detections) {
      this.counts.detections += records.length;
      await recordDetectionRecordsIn(unit, this.context, orgId, records);
    }
  }

  async checkpoint(
    unit: UnitOfWork,
    position: number,
    states: ReadonlyArray<{ readonly orgId: string; readonly json: string }>,
  ): Promise<void> {
    for (const { orgId, json } of states) await saveStateJson(unit.tx, orgId, json, unit.now);
    await writeCheckpoint(unit.tx, STATE_CHECKPOINT, position, unit.now);
  }
}
