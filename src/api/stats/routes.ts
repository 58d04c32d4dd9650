import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { ServiceContext } from '../../services/context.js';
import { getOverview, type Overview, type Percentiles } from '../../services/stats.js';
import { authOf } from '../auth-hook.js';
import { ERRORS } from '../schemas.js';
import { OverviewQuery, OverviewWire } from './schema.js';

const tags = ['stats'];

function presentPercentiles(p: Percentiles) {
  return { count: p.count, median_s: p.medianSeconds, p90_s: p.p90Seconds };
}

export function presentOverview(overview: Overview): z.infer<typeof OverviewWire> {
  return {
    generated_at: overview.generatedAt,
    open_incidents: {
      total: overview.openIncidents.total,
      by_severity_phase: overview.openIncidents.bySeverityPhase.map((c) => ({ ...c })),
    },
    alerts_waiting: {
      total: overview.alertsWaiting.total,
      by_severity: overview.alertsWaiting.bySeverity.map((c) => ({ severity: c.key, count: c.count })),
      by_rule: overview.alertsWaiting.byRule.map((c) => ({ rule: c.key, count: c.count })),
      by_source: overview.alertsWaiting.bySource.map((c) => ({ source: c.key, count: c.count })),
    },
    weekly: overview.weekly.map((w) => ({
      week_start: w.weekStart,
      opened: w.opened,
      closed: w.closed,
      to_acknowledge: presentPercentiles(w.toAcknowledge),
      to_close: presentPercentiles(w.toClose),
    })),
    period: {
      from: overview.period.from,
      opened: overview.period.opened,
      closed: overview.period.closed,
      to_acknowledge: presentPercentiles(overview.period.toAcknowledge),
      to_close: presentPercentiles(overview.period.toClose),
    },
  };
}

/** Aggregates for dashboards; every role reads them, always for its own organisation. */
export function statsRoutes(context: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/stats/overview',
      {
        schema: {
          tags,
          summary: 'Open incidents by severity and phase, alerts waiting for triage, weekly response times',
          description:
            'Counted by the database (exact at any size). Weeks start Monday 00:00 UTC. Time to ' +
            'acknowledge is grouped by the week an incident was opened, time to close by the week it was ' +
            'closed; both are whole seconds from opening (see Milestones). Percentiles interpolate ' +
            'linearly between neighbouring values.',
          querystring: OverviewQuery,
          response: { 200: OverviewWire, ...ERRORS },
        },
      },
      async (request) => presentOverview(await getOverview(context, authOf(request).actor, request.query)),
    );
  };
}
