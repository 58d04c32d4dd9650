/**
 * Aggregates for the dashboard, counted by the database instead of by clients reading capped lists:
 * open incidents by severity × phase, alerts waiting for triage (status `new`) with the busiest rules
 * and sources, and per UTC week (Monday 00:00) incidents opened and closed with the median and 90th
 * percentile time to acknowledge and to close.
 *
 * The durations follow core/incident-metrics (whole seconds from `created_at`, never negative). Time
 * to acknowledge belongs to the week an incident was opened; time to close to the week it was closed
 * ("of the incidents closed that week, half took less than ..."). Percentiles interpolate linearly
 * between the two nearest order statistics (PostgreSQL's `percentile_cont`), and are computed in SQL
 * with window functions that both engines share; only the date arithmetic differs by dialect.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { assertCan, type Actor } from '../core/actor.js';
import { PHASES, type Phase } from '../core/incident-lifecycle.js';
import { SEVERITIES, type Severity } from '../core/vocabulary.js';
import type { DialectName } from '../storage/database.js';
import type { Schema } from '../storage/schema.js';
import type { ServiceContext } from './context.js';

export const OPEN_PHASES: readonly Phase[] = PHASES.filter((p) => p !== 'closed');

export interface OverviewQuery {
  /** Weeks of history, the current (partial) week included. */
  readonly weeks: number;
  /** How many rules and sources to name. */
  readonly top: number;
}

export interface Percentiles {
  /** Incidents the figures are computed from. */
  readonly count: number;
  readonly medianSeconds: number | null;
  readonly p90Seconds: number | null;
}

export interface WeekStats {
  /** Monday of the week, `YYYY-MM-DD` (UTC). */
  readonly weekStart: string;
  readonly opened: number;
  readonly closed: number;
  /** Incidents opened this week that have been acknowledged. */
  readonly toAcknowledge: Percentiles;
  /** Incidents closed this week. */
  readonly toClose: Percentiles;
}

export interface KeyCount<K> {
  readonly key: K;
  readonly count: number;
}

export interface Overview {
  readonly generatedAt: string;
  readonly openIncidents: {
    readonly total: number;
    readonly bySeverityPhase: readonly { severity: Severity; phase: Phase; count: number }[];
  };
  readonly alertsWaiting: {
    readonly total: number;
    readonly bySeverity: readonly KeyCount<Severity>[];
    /** `key` null: alerts that name no rule. */
    readonly byRule: readonly KeyCount<string | null>[];
    readonly bySource: readonly KeyCount<string>[];
  };
  readonly weekly: readonly WeekStats[];
  /** The whole window (all `weekly` buckets together). */
  readonly period: {
    readonly from: string;
    readonly opened: number;
    readonly closed: number;
    readonly toAcknowledge: Percentiles;
    readonly toClose: Percentiles;
  };
}

const DAY_MS = 86_400_000;

/** Pure. Monday 00:00 UTC of the week holding `at`. */
export function weekStart(at: Date): Date {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY_MS);
}

/** The SQL dialect's expressions for the week of a timestamp and the seconds between two. */
interface DateSql {
  week(column: string): RawBuilder<string>;
  seconds(from: string, to: string): RawBuilder<number>;
}

function dateSql(dialect: DialectName): DateSql {
  if (dialect === 'postgres') {
    return {
      week: (c) => sql<string>`to_char(date_trunc('week', ${sql.ref(c)} at time zone 'UTC'), 'YYYY-MM-DD')`,
      seconds: (a, b) =>
        sql<number>`greatest(0, round(extract(epoch from (${sql.ref(b)} - ${sql.ref(a)}))))::bigint`,
    };
  }
  // SQLite keeps ISO-8601 text; date() and julianday() read it (the trailing Z included) as UTC.
  return {
    week: (c) => sql<string>`date(${sql.ref(c)}, '-6 days', 'weekday 1')`,
    seconds: (a, b) =>
      sql<number>`max(0, cast(round((julianday(${sql.ref(b)}) - julianday(${sql.ref(a)})) * 86400) as integer))`,
  };
}

interface PercentileRow {
  week: string;
  metric: string;
  n: number | string;
  p50: number | string | null;
  p90: number | string | null;
}

/**
 * Median and p90 per (week, metric) with window functions: each duration gets its 0-based rank `i`
 * among `n`; the p-th percentile sits at position p·(n−1), between ranks floor and ceil of it. The
 * positions use integer arithmetic (9·(n−1)/10 for p90), which truncates alike on both engines.
 */
async function weeklyPercentiles(
  db: Kysely<Schema>,
  d: DateSql,
  orgId: string,
  from: string,
): Promise<PercentileRow[]> {
  const { rows } = await sql<PercentileRow>`
    with durations as materialized (
      select ${d.week('created_at')} as week, 'ack' as metric, ${d.seconds('created_at', 'acknowledged_at')} as v
        from incidents
       where org_id = ${orgId} and created_at >= ${from} and acknowledged_at is not null
      union all
      select ${d.week('closed_at')} as week, 'close' as metric, ${d.seconds('created_at', 'closed_at')} as v
        from incidents
       where org_id = ${orgId} and closed_at >= ${from}
    ),
    -- The whole window once more, as the week 'all' (durations is materialized: one pass over incidents).
    every_week as (
      select week, metric, v from durations
      union all
      select 'all' as week, metric, v from durations
    ),
    ranked as (
      select week, metric, v,
             row_number() over (partition by week, metric order by v) - 1 as i,
             count(*) over (partition by week, metric) as n
        from every_week
    ),
    picked as (
      select week, metric, n,
             max(case when i = (n - 1) / 2 then v end) as p50_lo,
             max(case when i = n / 2 then v end) as p50_hi,
             max(case when i = (9 * (n - 1)) / 10 then v end) as p90_lo,
             max(case when i = (9 * (n - 1) + 9) / 10 then v end) as p90_hi,
             max((9 * (n - 1)) % 10) as p90_tenths
        from ranked
       group by week, metric, n
    )
    select week, metric, n,
           (p50_lo + p50_hi) / 2.0 as p50,
           p90_lo + (p90_hi - p90_lo) * p90_tenths / 10.0 as p90
      from picked`.execute(db);
  return rows;
}

function num(value: number | string | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function seconds(value: number | string | null | undefined): number | null {
  return value === null || value === undefined ? null : Math.round(Number(value));
}

/**
 * The dashboard's figures for the actor's organisation. Needs `read`. `weeks` buckets run oldest
 * first and end with the current week; weeks without incidents are present with zeros.
 */
export async function getOverview(
  context: ServiceContext,
  actor: Actor,
  query: OverviewQuery,
): Promise<Overview> {
  assertCan(actor, 'read');
  const { db, dialect } = context.database;
  const orgId = actor.orgId;
  const now = context.clock.now();
  const firstWeek = weekStart(new Date(weekStart(now).getTime() - (query.weeks - 1) * 7 * DAY_MS));
  const from = firstWeek.toISOString();
  const d = dateSql(dialect);

  const [open, waiting, opened, closed, percentiles] = await Promise.all([
    // Grouped on the rank so the (org, phase, severity_rank, ...) index answers without the table.
    db
      .selectFrom('incidents')
      .select(['severity_rank', 'phase', (eb) => eb.fn.countAll<number>().as('n')])
      .where('org_id', '=', orgId)
      .where('phase', 'in', [...OPEN_PHASES])
      .groupBy(['phase', 'severity_rank'])
      .execute(),
    // One pass over the waiting alerts for all three breakdowns (each needs the rows anyway); the
    // groups are at most (severities × rules × sources) and in practice a few thousand.
    db
      .selectFrom('alerts')
      .select(['severity_rank', 'rule', 'source', (eb) => eb.fn.countAll<number>().as('n')])
      .where('org_id', '=', orgId)
      .where('status', '=', 'new')
      .groupBy(['severity_rank', 'rule', 'source'])
      .execute(),
    db
      .selectFrom('incidents')
      .select([d.week('created_at').as('week'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('org_id', '=', orgId)
      .where('created_at', '>=', from)
      .groupBy(sql`1`)
      .execute(),
    db
      .selectFrom('incidents')
      .select([d.week('closed_at').as('week'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('org_id', '=', orgId)
      .where('closed_at', '>=', from)
      .groupBy(sql`1`)
      .execute(),
    weeklyPercentiles(db, d, orgId, from),
  ]);

  const severityOf = (rank: number | string) => SEVERITIES[Number(rank)]!;
  const severityOrder = (s: Severity) => -SEVERITIES.indexOf(s);
  const openCells = open
    .map((r) => ({ severity: severityOf(r.severity_rank), phase: r.phase as Phase, count: num(r.n) }))
    .sort(
      (a, b) =>
        severityOrder(a.severity) - severityOrder(b.severity) ||
        OPEN_PHASES.indexOf(a.phase) - OPEN_PHASES.indexOf(b.phase),
    );
  const sum = <K>(key: (row: (typeof waiting)[number]) => K): Map<K, number> => {
    const totals = new Map<K, number>();
    for (const row of waiting) totals.set(key(row), (totals.get(key(row)) ?? 0) + num(row.n));
    return totals;
  };
  const bySeverity = [...sum((r) => severityOf(r.severity_rank))]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => severityOrder(a.key) - severityOrder(b.key));
  // Busiest first; ties in name order, "no rule" after named ones.
  const busiest = <K extends string | null>(totals: Map<K, number>) =>
    [...totals]
      .map(([key, count]) => ({ key, count }))
      .sort(
        (a, b) =>
          b.count - a.count ||
          (a.key === null ? 1 : 0) - (b.key === null ? 1 : 0) ||
          (a.key ?? '').localeCompare(b.key ?? ''),
      )
      .slice(0, query.top);
  const byRule = busiest(sum((r) => r.rule));
  const bySource = busiest(sum((r) => r.source));

  const openedByWeek = new Map(opened.map((r) => [r.week, num(r.n)]));
  const closedByWeek = new Map(closed.map((r) => [r.week, num(r.n)]));
  const pct = new Map(percentiles.map((r) => [`${r.week}|${r.metric}`, r]));
  const figures = (week: string, metric: 'ack' | 'close'): Percentiles => {
    const row = pct.get(`${week}|${metric}`);
    return row
      ? { count: num(row.n), medianSeconds: seconds(row.p50), p90Seconds: seconds(row.p90) }
      : { count: 0, medianSeconds: null, p90Seconds: null };
  };
  const weekly: WeekStats[] = [];
  for (let i = 0; i < query.weeks; i += 1) {
    const week = new Date(firstWeek.getTime() + i * 7 * DAY_MS).toISOString().slice(0, 10);
    weekly.push({
      weekStart: week,
      opened: openedByWeek.get(week) ?? 0,
      closed: closedByWeek.get(week) ?? 0,
      toAcknowledge: figures(week, 'ack'),
      toClose: figures(week, 'close'),
    });
  }

  return {
    generatedAt: now.toISOString(),
    openIncidents: {
      total: openCells.reduce((sum, c) => sum + c.count, 0),
      bySeverityPhase: openCells,
    },
    alertsWaiting: {
      total: bySeverity.reduce((sum, c) => sum + c.count, 0),
      bySeverity,
      byRule,
      bySource,
    },
    weekly,
    period: {
      from,
      opened: weekly.reduce((sum, w) => sum + w.opened, 0),
      closed: weekly.reduce((sum, w) => sum + w.closed, 0),
      toAcknowledge: figures('all', 'ack'),
      toClose: figures('all', 'close'),
    },
  };
}
