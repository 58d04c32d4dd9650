/**
 * The dashboard, computed from the public list endpoints: open incidents by severity and phase, alerts
 * waiting for triage with the busiest rules and sources, and weekly incident counts with median times to
 * acknowledge and close. The lists are read up to a cap (shown as "N+"); counting exactly at 10^5
 * records needs an aggregate endpoint (see docs/console.md).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Link } from 'wouter';
import { SEVERITIES } from '../../../src/core/vocabulary.js';
import { api, type AlertSummary, type Incident, type Page, type Phase, type Severity } from '../api.js';
import { ErrorNotice, formatDuration, label, SeverityBadge } from '../components/ui.js';
import { useLive } from '../live.js';

const OPEN_PHASES: Phase[] = ['analysis', 'containment', 'remediation', 'follow_up'];
const PAGE = 500;

async function readUpTo<T>(
  path: string,
  query: Record<string, string | number | string[]>,
  cap: number,
): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await api<Page<T>>(path, {
      query: { ...query, limit: PAGE, ...(cursor ? { cursor } : {}) },
    });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < cap);
  return { items, more: cursor !== null };
}

interface DashboardData {
  open: Incident[];
  openMore: boolean;
  waiting: AlertSummary[];
  waitingMore: boolean;
  recent: Incident[];
}

async function loadDashboard(): Promise<DashboardData> {
  const [open, waiting, recent] = await Promise.all([
    readUpTo<Incident>('/incidents', { phase: OPEN_PHASES }, 2_000),
    readUpTo<AlertSummary>('/alerts', { status: ['new'] }, 1_000),
    readUpTo<Incident>('/incidents', { sort: 'created_at', order: 'desc' }, 500),
  ]);
  return {
    open: open.items,
    openMore: open.more,
    waiting: waiting.items,
    waitingMore: waiting.more,
    recent: recent.items,
  };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function top(values: string[], n: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** Monday 00:00 UTC of the week of `iso`. */
function weekOf(iso: string): string {
  const d = new Date(iso);
  const day = (d.getUTCDay() + 6) % 7;
  d.setUTCHours(0, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() - day);
  return d.toISOString().slice(0, 10);
}

export function Dashboard() {
  const [data, setData] = useState<DashboardData | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    loadDashboard()
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((caught: unknown) => setError(caught));
  }, []);
  useEffect(load, [load]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLive(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      load();
    }, 1500);
  });

  const count = (n: number, more: boolean) => `${n}${more ? '+' : ''}`;

  return (
    <section className="page dashboard" aria-labelledby="dash-title">
      <h1 id="dash-title">Dashboard</h1>
      <ErrorNotice error={error} />
      <div className="tiles">
        <Tile
          title="Open incidents"
          value={data ? count(data.open.length, data.openMore) : null}
          href="/incidents"
        />
        <Tile
          title="Critical or high, open"
          value={
            data
              ? String(data.open.filter((i) => i.severity === 'critical' || i.severity === 'high').length)
              : null
          }
          href="/incidents?severity=critical"
        />
        <Tile
          title="Alerts waiting for triage"
          value={data ? count(data.waiting.length, data.waitingMore) : null}
          href="/alerts?status=new"
        />
        <Tile
          title="Median time to acknowledge"
          value={
            data
              ? formatDuration(
                  median(
                    data.recent.flatMap((i) =>
                      i.durations.to_acknowledge_s === null ? [] : [i.durations.to_acknowledge_s],
                    ),
                  ),
                )
              : null
          }
          note="last 500 incidents"
        />
        <Tile
          title="Median time to close"
          value={
            data
              ? formatDuration(
                  median(
                    data.recent.flatMap((i) =>
                      i.durations.to_close_s === null ? [] : [i.durations.to_close_s],
                    ),
                  ),
                )
              : null
          }
          note="last 500 incidents"
        />
      </div>
      <div className="dash-grid">
        <section className="card" aria-labelledby="matrix-title">
          <h2 id="matrix-title">Open incidents by severity and phase</h2>
          {data ? <Matrix incidents={data.open} /> : <div className="skeleton-block" aria-hidden="true" />}
        </section>
        <section className="card" aria-labelledby="weekly-title">
          <h2 id="weekly-title">Incidents per week, median time to acknowledge and close</h2>
          {data ? <Weekly incidents={data.recent} /> : <div className="skeleton-block" aria-hidden="true" />}
        </section>
        <section className="card" aria-labelledby="rules-title">
          <h2 id="rules-title">Busiest rules (alerts waiting)</h2>
          {data ? (
            <TopList
              rows={top(
                data.waiting.map((a) => a.rule ?? '(no rule)'),
                6,
              )}
            />
          ) : (
            <div className="skeleton-block" aria-hidden="true" />
          )}
        </section>
        <section className="card" aria-labelledby="sources-title">
          <h2 id="sources-title">Busiest sources (alerts waiting)</h2>
          {data ? (
            <TopList
              rows={top(
                data.waiting.map((a) => a.source),
                6,
              )}
            />
          ) : (
            <div className="skeleton-block" aria-hidden="true" />
          )}
        </section>
      </div>
    </section>
  );
}

function Tile({
  title,
  value,
  href,
  note,
}: {
  title: string;
  value: string | null;
  href?: string;
  note?: string;
}) {
  const body = (
    <>
      <span className="tile-title">{title}</span>
      <span className="tile-value">{value ?? <span className="skeleton" aria-hidden="true" />}</span>
      {note && <span className="tile-note">{note}</span>}
    </>
  );
  return (
    <div className="tile card">
      {href ? (
        <Link href={href} className="tile-link">
          {body}
        </Link>
      ) : (
        <div className="tile-body">{body}</div>
      )}
    </div>
  );
}

function Matrix({ incidents }: { incidents: Incident[] }) {
  const severities = [...SEVERITIES].reverse() as Severity[];
  const cell = (s: Severity, p: Phase) => incidents.filter((i) => i.severity === s && i.phase === p).length;
  return (
    <table className="matrix">
      <caption className="visually-hidden">Open incidents: rows are severities, columns are phases</caption>
      <thead>
        <tr>
          <th scope="col">Severity</th>
          {OPEN_PHASES.map((p) => (
            <th key={p} scope="col">
              {label(p)}
            </th>
          ))}
          <th scope="col">Total</th>
        </tr>
      </thead>
      <tbody>
        {severities.map((s) => (
          <tr key={s}>
            <th scope="row">
              <SeverityBadge severity={s} />
            </th>
            {OPEN_PHASES.map((p) => {
              const n = cell(s, p);
              return (
                <td key={p} className={n ? 'nonzero' : 'zero'}>
                  {n}
                </td>
              );
            })}
            <td className="total">{incidents.filter((i) => i.severity === s).length}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Weekly({ incidents }: { incidents: Incident[] }) {
  const weeks = new Map<string, Incident[]>();
  for (const incident of incidents) {
    const key = weekOf(incident.created_at);
    weeks.set(key, [...(weeks.get(key) ?? []), incident]);
  }
  const rows = [...weeks.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).slice(-8);
  if (rows.length === 0) return <p className="muted">No incidents yet.</p>;
  const max = Math.max(...rows.map(([, list]) => list.length));
  return (
    <table className="weekly">
      <caption className="visually-hidden">
        Per week: incidents opened, median time to acknowledge, median time to close
      </caption>
      <thead>
        <tr>
          <th scope="col">Week of</th>
          <th scope="col">Opened</th>
          <th scope="col">Acknowledge (median)</th>
          <th scope="col">Close (median)</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([week, list]) => (
          <tr key={week}>
            <th scope="row">{week}</th>
            <td>
              <span
                className="bar"
                style={{ width: `${Math.max(4, (list.length / max) * 100)}%` }}
                aria-hidden="true"
              />
              <span className="bar-value">{list.length}</span>
            </td>
            <td>
              {formatDuration(
                median(
                  list.flatMap((i) =>
                    i.durations.to_acknowledge_s === null ? [] : [i.durations.to_acknowledge_s],
                  ),
                ),
              )}
            </td>
            <td>
              {formatDuration(
                median(
                  list.flatMap((i) => (i.durations.to_close_s === null ? [] : [i.durations.to_close_s])),
                ),
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TopList({ rows }: { rows: [string, number][] }) {
  if (rows.length === 0) return <p className="muted">Nothing waiting.</p>;
  const max = rows[0]![1];
  return (
    <ol className="toplist">
      {rows.map(([name, n]) => (
        <li key={name}>
          <span className="toplist-name">{name}</span>
          <span className="bar" style={{ width: `${Math.max(4, (n / max) * 60)}%` }} aria-hidden="true" />
          <span className="bar-value">{n}</span>
        </li>
      ))}
    </ol>
  );
}
