/**
 * The dashboard, from one aggregate call (GET /stats/overview): open incidents by severity and phase,
 * alerts waiting for triage with the busiest rules and sources, and per week the incidents opened and
 * closed with the median and 90th percentile time to acknowledge and close. The server counts, so the
 * figures are exact at any size.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Link } from 'wouter';
import { SEVERITIES } from '../../../src/core/vocabulary.js';
import { api, type Phase, type Severity, type StatsOverview } from '../api.js';
import { ErrorNotice, formatDuration, label, SeverityBadge } from '../components/ui.js';
import { useLive } from '../live.js';

const OPEN_PHASES: Phase[] = ['analysis', 'containment', 'remediation', 'follow_up'];
const WEEKS = 8;

export function Dashboard() {
  const [data, setData] = useState<StatsOverview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    api<StatsOverview>('/stats/overview', { query: { weeks: WEEKS, top: 6 } })
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((caught: unknown) => setError(caught));
  }, []);
  useEffect(load, [load]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLive((event) => {
    if (event.target.type !== 'incident' && event.target.type !== 'alert') return;
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      load();
    }, 1000);
  });
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const severe = data
    ? data.open_incidents.by_severity_phase
        .filter((c) => c.severity === 'critical' || c.severity === 'high')
        .reduce((sum, c) => sum + c.count, 0)
    : null;
  const period = data?.period;

  return (
    <section className="page dashboard" aria-labelledby="dash-title" data-ready={data ? 'true' : undefined}>
      <h1 id="dash-title">Dashboard</h1>
      <ErrorNotice error={error} />
      <div className="tiles">
        <Tile
          title="Open incidents"
          value={data ? String(data.open_incidents.total) : null}
          href="/incidents"
        />
        <Tile
          title="Critical or high, open"
          value={severe === null ? null : String(severe)}
          href="/incidents?severity=critical"
        />
        <Tile
          title="Alerts waiting for triage"
          value={data ? String(data.alerts_waiting.total) : null}
          href="/alerts?status=new"
        />
        <Tile
          title="Median time to acknowledge"
          value={period ? formatDuration(period.to_acknowledge.median_s) : null}
          note={
            period ? `p90 ${formatDuration(period.to_acknowledge.p90_s)} · last ${WEEKS} weeks` : undefined
          }
        />
        <Tile
          title="Median time to close"
          value={period ? formatDuration(period.to_close.median_s) : null}
          note={period ? `p90 ${formatDuration(period.to_close.p90_s)} · last ${WEEKS} weeks` : undefined}
        />
      </div>
      <div className="dash-grid">
        <section className="card" aria-labelledby="matrix-title">
          <h2 id="matrix-title">Open incidents by severity and phase</h2>
          {data ? <Matrix data={data} /> : <div className="skeleton-block" aria-hidden="true" />}
        </section>
        <section className="card" aria-labelledby="weekly-title">
          <h2 id="weekly-title">Incidents per week, time to acknowledge and close</h2>
          {data ? <Weekly data={data} /> : <div className="skeleton-block" aria-hidden="true" />}
        </section>
        <section className="card" aria-labelledby="rules-title">
          <h2 id="rules-title">Busiest rules (alerts waiting)</h2>
          {data ? (
            <TopList rows={data.alerts_waiting.by_rule.map((r) => [r.rule ?? '(no rule)', r.count])} />
          ) : (
            <div className="skeleton-block" aria-hidden="true" />
          )}
        </section>
        <section className="card" aria-labelledby="sources-title">
          <h2 id="sources-title">Busiest sources (alerts waiting)</h2>
          {data ? (
            <TopList rows={data.alerts_waiting.by_source.map((r) => [r.source, r.count])} />
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
  note?: string | undefined;
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

function Matrix({ data }: { data: StatsOverview }) {
  const severities = [...SEVERITIES].reverse() as Severity[];
  const cells = new Map(
    data.open_incidents.by_severity_phase.map((c) => [`${c.severity}|${c.phase}`, c.count]),
  );
  const cell = (s: Severity, p: Phase) => cells.get(`${s}|${p}`) ?? 0;
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
            <td className="total">{OPEN_PHASES.reduce((sum, p) => sum + cell(s, p), 0)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Weekly({ data }: { data: StatsOverview }) {
  const rows = data.weekly;
  if (rows.every((w) => w.opened === 0 && w.closed === 0)) {
    return <p className="muted">No incidents in the last {rows.length} weeks.</p>;
  }
  const max = Math.max(1, ...rows.map((w) => Math.max(w.opened, w.closed)));
  return (
    <table className="weekly">
      <caption className="visually-hidden">
        Per week: incidents opened and closed, median and 90th percentile time to acknowledge and to close
      </caption>
      <thead>
        <tr>
          <th scope="col">Week of</th>
          <th scope="col">Opened</th>
          <th scope="col">Closed</th>
          <th scope="col">Acknowledge (median / p90)</th>
          <th scope="col">Close (median / p90)</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((w) => (
          <tr key={w.week_start}>
            <th scope="row">{w.week_start}</th>
            <td>
              <span
                className="bar"
                style={{ width: `${Math.max(4, (w.opened / max) * 100)}%` }}
                aria-hidden="true"
              />
              <span className="bar-value">{w.opened}</span>
            </td>
            <td>
              <span
                className="bar closed"
                style={{ width: `${Math.max(4, (w.closed / max) * 100)}%` }}
                aria-hidden="true"
              />
              <span className="bar-value">{w.closed}</span>
            </td>
            <td>
              {formatDuration(w.to_acknowledge.median_s)} / {formatDuration(w.to_acknowledge.p90_s)}
            </td>
            <td>
              {formatDuration(w.to_close.median_s)} / {formatDuration(w.to_close.p90_s)}
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
