import { Detector, type Detection } from '../detection/detector.js';
import { prepareEvent, type PreparedEvent } from '../detection/event.js';
import type { ServiceContext, UnitOfWork } from '../services/context.js';
import {
  exportDetectorState,
  importDetectorState,
  loadDetectionState,
  recordDetectionsIn,
  saveDetectionState,
} from '../services/detections.js';
import { loadActiveRuleSet } from '../services/rules.js';
import { readCheckpoint, writeCheckpoint } from '../storage/event-repository.js';
import { detectionDocument } from './detection-document.js';
import type { DetectionStage, PipelineItem } from './pipeline.js';

/** The checkpoint row naming the spool position the saved detection states reflect. */
const STATE_CHECKPOINT = 'detection-state';

interface OrgDetections {
  readonly orgId: string;
  readonly detections: Detection[];
  readonly byEvent: Map<PreparedEvent, PipelineItem>;
}

interface OrgDetector {
  readonly key: string;
  readonly detector: Detector;
}

/**
 * Live detection in the pipeline: each organisation's enabled rules (rebuilt when they change,
 * carrying correlation and baseline state across), alerts recorded in the pipeline's transaction,
 * state checkpointed with a spool position.
 */
export class RuleDetectionStage implements DetectionStage {
  private readonly detectors = new Map<string, OrgDetector>();
  /** Counters for metrics and benchmarks. */
  readonly counts = { events: 0, detections: 0 };

  constructor(private readonly context: ServiceContext) {}

  async restore(): Promise<number> {
    // Forget in-memory state: each organisation's saved state is loaded again on first use.
    this.detectors.clear();
    return (await readCheckpoint(this.context.database.db, STATE_CHECKPOINT)) ?? 0;
  }

  private async detectorFor(orgId: string): Promise<Detector> {
    const active = await loadActiveRuleSet(this.context, orgId);
    const current = this.detectors.get(orgId);
    if (current?.key === active.key) return current.detector;
    const detector = new Detector(active.set);
    if (current) {
      importDetectorState(detector, exportDetectorState(current.detector, current.key));
    } else {
      const saved = await loadDetectionState(this.context, orgId);
      if (saved) importDetectorState(detector, saved);
    }
    this.detectors.set(orgId, { key: active.key, detector });
    return detector;
  }

  /** Runs the items of each organisation through its detector, in order. */
  private async run(items: readonly PipelineItem[]): Promise<OrgDetections[]> {
    const byOrg = new Map<string, PipelineItem[]>();
    for (const item of items) {
      const list = byOrg.get(item.event.orgId);
      if (list) list.push(item);
      else byOrg.set(item.event.orgId, [item]);
    }
    const out: OrgDetections[] = [];
    for (const [orgId, list] of byOrg) {
      const detector = await this.detectorFor(orgId);
      const detections: Detection[] = [];
      const byEvent = new Map<PreparedEvent, PipelineItem>();
      for (const item of list) {
        const prepared = prepareEvent(detectionDocument(item.event, item.normalised));
        const found = detector.process(prepared);
        if (found.length > 0) {
          byEvent.set(prepared, item);
          for (const detection of found) detections.push(detection);
        }
      }
      this.counts.events += list.length;
      this.counts.detections += detections.length;
      if (detections.length > 0) out.push({ orgId, detections, byEvent });
    }
    return out;
  }

  async warm(items: readonly PipelineItem[]): Promise<void> {
    await this.run(items);
  }

  detect(items: readonly PipelineItem[]): Promise<OrgDetections[]> {
    return this.run(items);
  }

  async record(unit: UnitOfWork, batch: unknown): Promise<void> {
    for (const { orgId, detections, byEvent } of batch as OrgDetections[]) {
      await recordDetectionsIn(unit, this.context, orgId, detections, {
        describeEvent: (event) => {
          const item = byEvent.get(event);
          return item ? { id: item.event.id, observables: item.normalised.observables } : undefined;
        },
      });
    }
  }

  async checkpoint(unit: UnitOfWork, position: number): Promise<void> {
    for (const [orgId, { key, detector }] of this.detectors) {
      await saveDetectionState(unit, orgId, exportDetectorState(detector, key));
    }
    await writeCheckpoint(unit.tx, STATE_CHECKPOINT, position, unit.now);
  }
}
