import type { IncidentMilestones } from './incident-lifecycle.js';

/** Response-time figures of one incident, in whole seconds; null until the milestone is reached. */
export interface IncidentDurations {
  /** From the earliest evidence to the incident being opened. */
  readonly toDetect: number;
  /** From opening to someone owning it. */
  readonly toAcknowledge: number | null;
  /** From opening to the end of containment. */
  readonly toContain: number | null;
  /** From opening to the end of remediation. */
  readonly toRemediate: number | null;
  /** From opening to closing. */
  readonly toClose: number | null;
}

function seconds(from: string, to: string | null): number | null {
  if (to === null) return null;
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
}

/** Pure. The durations the follow-up metrics (time to detect, acknowledge, contain, resolve) are built from. */
export function incidentDurations(
  incident: IncidentMilestones & { readonly detectedAt: string; readonly createdAt: string },
): IncidentDurations {
  return {
    toDetect: seconds(incident.detectedAt, incident.createdAt) ?? 0,
    toAcknowledge: seconds(incident.createdAt, incident.acknowledgedAt),
    toContain: seconds(incident.createdAt, incident.containedAt),
    toRemediate: seconds(incident.createdAt, incident.remediatedAt),
    toClose: seconds(incident.createdAt, incident.closedAt),
  };
}
