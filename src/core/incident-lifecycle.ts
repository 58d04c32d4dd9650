import { IllegalStateError, UserError } from './errors.js';
import type { AnalysisResolution } from './vocabulary.js';

/**
 * The phases of an incident, in order (NIST SP 800-61 folded into five steps):
 * - analysis:     triage and scoping; where every incident starts
 * - containment:  stopping the spread (isolate, disable, block)
 * - remediation:  removing the cause and restoring normal operation
 * - follow_up:    post-incident review and lessons learned
 * - closed:       done; reopening moves it back with a reason
 */
export const PHASES = ['analysis', 'containment', 'remediation', 'follow_up', 'closed'] as const;
export type Phase = (typeof PHASES)[number];

/** Milestone timestamps the lifecycle maintains (ISO strings, UTC). */
export interface IncidentMilestones {
  readonly acknowledgedAt: string | null;
  readonly containedAt: string | null;
  readonly remediatedAt: string | null;
  readonly closedAt: string | null;
}

export interface LifecycleState extends IncidentMilestones {
  readonly phase: Phase;
  /** When the incident last entered each phase it has been in. */
  readonly phaseEnteredAt: Readonly<Partial<Record<Phase, string>>>;
  /** How an incident closed from analysis ended; null otherwise. */
  readonly resolution: AnalysisResolution | null;
  /** The post-incident review written when closing from follow_up; null otherwise. */
  readonly reviewSummary: string | null;
}

export interface TransitionRequest {
  readonly to: Phase;
  readonly reason?: string | undefined;
  readonly resolution?: AnalysisResolution | undefined;
  readonly reviewSummary?: string | undefined;
}

export type TransitionDirection = 'forward' | 'back' | 'close';

export interface TransitionOutcome {
  readonly direction: TransitionDirection;
  readonly next: LifecycleState;
}

function indexOf(phase: Phase): number {
  return PHASES.indexOf(phase);
}

function present(text: string | undefined): text is string {
  return text !== undefined && text.trim().length > 0;
}

/**
 * Pure. Computes the incident's state after moving to `request.to` at `now`.
 *
 * Rules:
 * - forward moves go one phase at a time (analysis → containment → remediation → follow_up);
 * - closing is allowed from `analysis` with a `resolution` (false_positive, duplicate, benign) or from
 *   `follow_up` with a written `review_summary`; not from containment or remediation;
 * - moving back to any earlier phase (re-infection, reopening a closed incident) needs a `reason`; the
 *   milestones of the phases being redone are cleared so the metrics show the real, later times;
 * - milestones: acknowledged_at is set on the first move out of analysis (if not set earlier),
 *   contained_at when leaving containment for remediation, remediated_at when entering follow_up,
 *   closed_at when closing.
 *
 * Throws IllegalStateError (`transition_not_allowed`) for a move the rules forbid and UserError
 * (`reason_required`, `resolution_required`, `review_summary_required`) for a missing justification.
 */
export function transitionIncident(
  state: LifecycleState,
  request: TransitionRequest,
  now: Date,
): TransitionOutcome {
  const from = state.phase;
  const to = request.to;
  const at = now.toISOString();
  if (from === to) {
    throw new IllegalStateError('transition_not_allowed', `incident is already in ${to}`, { from, to });
  }
  const fromIndex = indexOf(from);
  const toIndex = indexOf(to);
  const entered = { ...state.phaseEnteredAt, [to]: at };

  if (toIndex < fromIndex) {
    if (!present(request.reason)) {
      throw new UserError('reason_required', `moving back from ${from} to ${to} needs a reason`, {
        field: 'reason',
        from,
        to,
      });
    }
    // Redoing phases: their completion milestones no longer hold.
    const cleared: IncidentMilestones = {
      acknowledgedAt: state.acknowledgedAt,
      containedAt: toIndex <= indexOf('containment') ? null : state.containedAt,
      remediatedAt: toIndex <= indexOf('remediation') ? null : state.remediatedAt,
      closedAt: null,
    };
    // Reopening withdraws the earlier conclusion.
    return {
      direction: 'back',
      next: { ...cleared, phase: to, phaseEnteredAt: entered, resolution: null, reviewSummary: null },
    };
  }

  if (to === 'closed') {
    if (from === 'analysis') {
      if (request.resolution === undefined) {
        throw new UserError(
          'resolution_required',
          'closing from analysis needs a resolution: false_positive, duplicate or benign',
          { field: 'resolution', from, to },
        );
      }
      return {
        direction: 'close',
        next: {
          ...state,
          acknowledgedAt: state.acknowledgedAt ?? at,
          closedAt: at,
          phase: to,
          phaseEnteredAt: entered,
          resolution: request.resolution,
          reviewSummary: null,
        },
      };
    }
    if (from === 'follow_up') {
      if (!present(request.reviewSummary)) {
        throw new UserError('review_summary_required', 'closing from follow_up needs a review summary', {
          field: 'review_summary',
          from,
          to,
        });
      }
      return {
        direction: 'close',
        next: {
          ...state,
          closedAt: at,
          phase: to,
          phaseEnteredAt: entered,
          resolution: null,
          reviewSummary: request.reviewSummary.trim(),
        },
      };
    }
    throw new IllegalStateError(
      'transition_not_allowed',
      `an incident in ${from} cannot be closed; move it to follow_up first`,
      { from, to },
    );
  }

  if (toIndex !== fromIndex + 1) {
    throw new IllegalStateError(
      'transition_not_allowed',
      `incidents move forward one phase at a time: ${from} → ${PHASES[fromIndex + 1] ?? 'none'}`,
      { from, to },
    );
  }
  return {
    direction: 'forward',
    next: {
      phase: to,
      phaseEnteredAt: entered,
      acknowledgedAt: state.acknowledgedAt ?? at,
      containedAt: to === 'remediation' ? at : state.containedAt,
      remediatedAt: to === 'follow_up' ? at : state.remediatedAt,
      closedAt: state.closedAt,
      resolution: state.resolution,
      reviewSummary: state.reviewSummary,
    },
  };
}
