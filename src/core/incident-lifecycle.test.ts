import { describe, expect, it } from 'vitest';
import { IllegalStateError, UserError } from './errors.js';
import { transitionIncident, type LifecycleState, type Phase } from './incident-lifecycle.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

function fresh(): LifecycleState {
  return {
    phase: 'analysis',
    phaseEnteredAt: { analysis: T0.toISOString() },
    acknowledgedAt: null,
    containedAt: null,
    remediatedAt: null,
    closedAt: null,
    resolution: null,
    reviewSummary: null,
  };
}

function walk(state: LifecycleState, ...phases: Phase[]): LifecycleState {
  let current = state;
  phases.forEach((to, index) => {
    current = transitionIncident(
      current,
      { to, reviewSummary: 'done', reason: 'r', resolution: 'benign' },
      at(index + 1),
    ).next;
  });
  return current;
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('incident lifecycle', () => {
  it('moves forward one phase at a time and records each milestone', () => {
    const s1 = transitionIncident(fresh(), { to: 'containment' }, at(10));
    expect(s1.direction).toBe('forward');
    expect(s1.next.phase).toBe('containment');
    expect(s1.next.acknowledgedAt).toBe(at(10).toISOString());
    expect(s1.next.containedAt).toBeNull();
    const s2 = transitionIncident(s1.next, { to: 'remediation' }, at(20));
    expect(s2.next.containedAt).toBe(at(20).toISOString());
    const s3 = transitionIncident(s2.next, { to: 'follow_up' }, at(30));
    expect(s3.next.remediatedAt).toBe(at(30).toISOString());
    const s4 = transitionIncident(
      s3.next,
      { to: 'closed', reviewSummary: '  Root cause: phishing.  ' },
      at(40),
    );
    expect(s4.next.closedAt).toBe(at(40).toISOString());
    expect(s4.next.reviewSummary).toBe('Root cause: phishing.');
    expect(s4.next.phaseEnteredAt).toMatchObject({
      containment: at(10).toISOString(),
      remediation: at(20).toISOString(),
      follow_up: at(30).toISOString(),
      closed: at(40).toISOString(),
    });
  });

  it('keeps an earlier acknowledgement', () => {
    const state = { ...fresh(), acknowledgedAt: at(1).toISOString() };
    expect(transitionIncident(state, { to: 'containment' }, at(5)).next.acknowledgedAt).toBe(
      at(1).toISOString(),
    );
  });

  it('refuses to skip phases forward', () => {
    const error = errorOf(() => transitionIncident(fresh(), { to: 'remediation' }, at(1)));
    expect(error).toBeInstanceOf(IllegalStateError);
    expect((error as IllegalStateError).code).toBe('transition_not_allowed');
  });

  it('refuses a move to the current phase', () => {
    expect(errorOf(() => transitionIncident(fresh(), { to: 'analysis', reason: 'x' }, at(1)))).toBeInstanceOf(
      IllegalStateError,
    );
  });

  it('closes from analysis only with a resolution', () => {
    const error = errorOf(() => transitionIncident(fresh(), { to: 'closed' }, at(1)));
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('resolution_required');
    expect((error as UserError).details.field).toBe('resolution');
    const closed = transitionIncident(fresh(), { to: 'closed', resolution: 'false_positive' }, at(2));
    expect(closed.next.resolution).toBe('false_positive');
    expect(closed.next.closedAt).toBe(at(2).toISOString());
    expect(closed.next.acknowledgedAt).toBe(at(2).toISOString());
  });

  it('closes from follow_up only with a written review summary', () => {
    const inFollowUp = walk(fresh(), 'containment', 'remediation', 'follow_up');
    for (const reviewSummary of [undefined, '', '   ']) {
      const error = errorOf(() => transitionIncident(inFollowUp, { to: 'closed', reviewSummary }, at(9)));
      expect((error as UserError).code).toBe('review_summary_required');
    }
  });

  it.each(['containment', 'remediation'] as const)('cannot close from %s', (phase) => {
    const state =
      phase === 'containment' ? walk(fresh(), 'containment') : walk(fresh(), 'containment', 'remediation');
    const error = errorOf(() =>
      transitionIncident(state, { to: 'closed', resolution: 'benign', reviewSummary: 'x' }, at(9)),
    );
    expect(error).toBeInstanceOf(IllegalStateError);
  });

  it('moves back only with a reason and clears the milestones being redone', () => {
    const inFollowUp = walk(fresh(), 'containment', 'remediation', 'follow_up');
    expect(
      (errorOf(() => transitionIncident(inFollowUp, { to: 'containment' }, at(9))) as UserError).code,
    ).toBe('reason_required');
    expect(
      (errorOf(() => transitionIncident(inFollowUp, { to: 'containment', reason: '  ' }, at(9))) as UserError)
        .code,
    ).toBe('reason_required');
    const back = transitionIncident(
      inFollowUp,
      { to: 'containment', reason: 'reinfected via second host' },
      at(9),
    );
    expect(back.direction).toBe('back');
    expect(back.next.phase).toBe('containment');
    expect(back.next.containedAt).toBeNull();
    expect(back.next.remediatedAt).toBeNull();
    expect(back.next.acknowledgedAt).not.toBeNull();
  });

  it('reopens a closed incident with a reason', () => {
    const closed = walk(fresh(), 'containment', 'remediation', 'follow_up', 'closed');
    const reopened = transitionIncident(closed, { to: 'remediation', reason: 'backdoor found' }, at(20));
    expect(reopened.next.closedAt).toBeNull();
    expect(reopened.next.containedAt).not.toBeNull();
    expect(reopened.next.remediatedAt).toBeNull();
    expect(reopened.next.reviewSummary).toBeNull();
  });
});
