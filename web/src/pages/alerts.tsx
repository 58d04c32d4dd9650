/**
 * The alert queue: filter, sort, page by keyset, select many; acknowledge, dismiss with a reason, promote
 * to a new incident or merge into an existing one; the raw payload beside the list. Keys: j/k move,
 * x selects, a acknowledges, p promotes, d dismisses, m merges, ? shows them all.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { ALERT_STATUSES, DISMISS_REASONS, SEVERITIES } from '../../../src/core/vocabulary.js';
import {
  api,
  describeError,
  type Alert,
  type AlertStatus,
  type AlertSummary,
  type DismissReason,
  type Incident,
  type IncidentCategory,
  type Page,
  type Severity,
} from '../api.js';
import { Dialog, ErrorNotice, label, SeverityBadge, StatusBadge, Time, LoadMore } from '../components/ui.js';
import { ChoiceField, IncidentClassFields, TextField } from '../components/fields.js';
import { GridRows } from '../components/grid.js';
import { useToast } from '../components/toast.js';
import { useLive } from '../live.js';
import { usePagedList } from '../paged-list.js';
import { canWrite, useUser } from '../session.js';
import { JsonView } from '../components/json-view.js';

const SORTS = [
  { value: 'created_at:desc', label: 'Newest first' },
  { value: 'created_at:asc', label: 'Oldest first' },
  { value: 'last_seen:desc', label: 'Last seen, latest first' },
  { value: 'last_seen:asc', label: 'Last seen, earliest first' },
];

const PAGE_SIZE = 50;

interface Filters {
  status: AlertStatus[];
  severity: Severity[];
  source: string;
  q: string;
  sort: 'created_at' | 'last_seen';
  order: 'asc' | 'desc';
}

function filtersFromUrl(): Filters {
  const params = new URLSearchParams(window.location.search);
  const list = <T extends string>(key: string, allowed: readonly T[], fallback: T[]): T[] => {
    const raw = params.get(key);
    if (raw === null) return fallback;
    return raw.split(',').filter((v): v is T => (allowed as readonly string[]).includes(v));
  };
  return {
    status: list('status', ALERT_STATUSES, ['new', 'acknowledged']),
    severity: list('severity', SEVERITIES, []),
    source: params.get('source') ?? '',
    q: params.get('q') ?? '',
    sort: params.get('sort') === 'last_seen' ? 'last_seen' : 'created_at',
    order: params.get('order') === 'asc' ? 'asc' : 'desc',
  };
}

function filtersToUrl(filters: Filters): void {
  const params = new URLSearchParams();
  params.set('status', filters.status.join(','));
  if (filters.severity.length) params.set('severity', filters.severity.join(','));
  if (filters.source) params.set('source', filters.source);
  if (filters.q) params.set('q', filters.q);
  if (filters.sort !== 'created_at') params.set('sort', filters.sort);
  if (filters.order !== 'desc') params.set('order', filters.order);
  window.history.replaceState(window.history.state, '', `${window.location.pathname}?${params}`);
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  if (!element) return false;
  return (
    element.isContentEditable ||
    ['INPUT', 'TEXTAREA', 'SELECT'].includes(element.tagName) ||
    element.closest('dialog[open]') !== null
  );
}

export function AlertQueue() {
  const user = useUser();
  const writer = canWrite(user.role);
  const toast = useToast();
  const [, navigate] = useLocation();
  const [filters, setFilters] = useState<Filters>(filtersFromUrl);
  const query = useDebounced(filters, 250);
  const [focus, setFocus] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [detail, setDetail] = useState<Alert | null>(null);
  const [dialog, setDialog] = useState<'dismiss' | 'promote' | 'merge' | 'help' | null>(null);
  const [busy, setBusy] = useState(false);
  const tableRef = useRef<HTMLTableSectionElement>(null);

  const apiQuery = useMemo(
    () => ({
      status: query.status,
      severity: query.severity,
      source: query.source.trim(),
      q: query.q.trim(),
      sort: query.sort,
      order: query.order,
      limit: PAGE_SIZE,
    }),
    [query],
  );

  useEffect(() => filtersToUrl(query), [query]);

  // First page whenever the filters change.
  const { items, setItems, cursor, setCursor, pages, loading, error, loadMore } = usePagedList<AlertSummary>(
    '/alerts',
    apiQuery,
    {
      onFirstPage: () => {
        setFocus(0);
        setSelected(new Set());
      },
    },
  );

  // Live: reload the first page and fold it into what is shown, keeping the focused alert.
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refresh = useCallback(() => {
    api<Page<AlertSummary>>('/alerts', { query: apiQuery })
      .then((page) => {
        setItems((list) => {
          const focusedId = list[focus]?.id;
          let next: AlertSummary[];
          if (pages <= 1) {
            next = page.items;
            setCursor(page.next_cursor);
          } else {
            const fresh = new Map(page.items.map((a) => [a.id, a]));
            const known = new Set(list.map((a) => a.id));
            next = [...page.items.filter((a) => !known.has(a.id)), ...list.map((a) => fresh.get(a.id) ?? a)];
          }
          const added = next.filter((a) => !list.some((b) => b.id === a.id)).length;
          if (added > 0) toast(`${added} new alert${added === 1 ? '' : 's'}`);
          const index = focusedId ? next.findIndex((a) => a.id === focusedId) : -1;
          setFocus(index >= 0 ? index : Math.min(focus, Math.max(0, next.length - 1)));
          setSelected((s) => new Set([...s].filter((id) => next.some((a) => a.id === id))));
          return next;
        });
      })
      .catch(() => undefined);
  }, [apiQuery, focus, pages, toast]);
  useLive((event) => {
    if (event.target.type !== 'alert' && event.action !== 'incident.alerts_merged') return;
    if (refreshTimer.current) clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(refresh, 200);
  });

  const focused = items[focus];
  // The focused alert's payload and observables, a moment after the focus settles.
  useEffect(() => {
    if (!focused) {
      setDetail(null);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api<Alert>(`/alerts/${focused.id}`, { signal: controller.signal })
        .then(setDetail)
        .catch(() => undefined);
    }, 120);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [focused?.id, focused?.updated_at]);

  useEffect(() => {
    tableRef.current?.querySelector('tr.focused')?.scrollIntoView({ block: 'nearest' });
  }, [focus]);

  const targets = useMemo(() => {
    const chosen = items.filter((a) => selected.has(a.id));
    return chosen.length > 0 ? chosen : focused ? [focused] : [];
  }, [items, selected, focused]);
  const actionable = targets.filter((a) => a.incident_id === null);

  const setStatus = useCallback(
    async (status: 'acknowledged' | 'dismissed' | 'new', reason?: DismissReason, comment?: string) => {
      if (actionable.length === 0) return;
      setBusy(true);
      try {
        await api('/alerts/status', {
          method: 'POST',
          body: {
            alert_ids: actionable.map((a) => a.id),
            status,
            ...(reason ? { reason } : {}),
            ...(comment ? { comment } : {}),
          },
        });
        toast(`${actionable.length} alert${actionable.length === 1 ? '' : 's'} ${label(status)}`);
        setSelected(new Set());
        setDialog(null);
        refresh();
      } catch (caught) {
        toast(describeError(caught), 'error');
      } finally {
        setBusy(false);
      }
    },
    [actionable, refresh, toast],
  );

  // Keyboard shortcuts for the triage loop.
  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      const key = event.key;
      if (key === 'j') setFocus((f) => Math.min(items.length - 1, f + 1));
      else if (key === 'k') setFocus((f) => Math.max(0, f - 1));
      else if (key === 'x' && focused) {
        setSelected((s) => {
          const next = new Set(s);
          if (next.has(focused.id)) next.delete(focused.id);
          else next.add(focused.id);
          return next;
        });
      } else if (key === '?') setDialog('help');
      else if (writer && key === 'a') void setStatus('acknowledged');
      else if (writer && key === 'd' && actionable.length) setDialog('dismiss');
      else if (writer && key === 'p' && actionable.length) setDialog('promote');
      else if (writer && key === 'm' && actionable.length) setDialog('merge');
      else return;
      event.preventDefault();
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [items.length, focused, writer, setStatus, actionable.length]);

  const toggleList = <T extends string>(list: T[], value: T): T[] =>
    list.includes(value) ? list.filter((v) => v !== value) : [...list, value];

  const allSelected = items.length > 0 && items.every((a) => selected.has(a.id));

  return (
    <section className="page alerts-page" aria-labelledby="alerts-title">
      <div className="page-head">
        <h1 id="alerts-title">Alert queue</h1>
        <button type="button" className="ghost" onClick={() => setDialog('help')} aria-keyshortcuts="?">
          Keyboard shortcuts <kbd>?</kbd>
        </button>
      </div>

      <form className="filters" role="search" aria-label="Filter alerts" onSubmit={(e) => e.preventDefault()}>
        <fieldset>
          <legend>Status</legend>
          {ALERT_STATUSES.map((status) => (
            <label key={status} className="check">
              <input
                type="checkbox"
                checked={filters.status.includes(status)}
                onChange={() => setFilters((f) => ({ ...f, status: toggleList(f.status, status) }))}
              />
              {label(status)}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Severity</legend>
          {SEVERITIES.map((severity) => (
            <label key={severity} className="check">
              <input
                type="checkbox"
                checked={filters.severity.includes(severity)}
                onChange={() => setFilters((f) => ({ ...f, severity: toggleList(f.severity, severity) }))}
              />
              {severity}
            </label>
          ))}
        </fieldset>
        <TextField
          id="alert-source"
          label="Source"
          value={filters.source}
          onChange={(source) => setFilters((f) => ({ ...f, source }))}
          placeholder="e.g. edr"
        />
        <TextField
          id="alert-q"
          label="Search"
          type="search"
          value={filters.q}
          onChange={(q) => setFilters((f) => ({ ...f, q }))}
          placeholder="title contains…"
          grow
        />
        <ChoiceField
          id="alert-sort"
          label="Sort"
          value={`${filters.sort}:${filters.order}`}
          onChange={(value) => {
            const [sort, order] = value.split(':') as [Filters['sort'], Filters['order']];
            setFilters((f) => ({ ...f, sort, order }));
          }}
          choices={SORTS}
        />
      </form>

      {writer && (
        <div className="toolbar" role="toolbar" aria-label="Alert actions">
          <span className="muted">
            {selected.size > 0 ? `${selected.size} selected` : focused ? '1 focused' : 'nothing selected'}
          </span>
          <button
            type="button"
            disabled={busy || !actionable.length}
            onClick={() => void setStatus('acknowledged')}
            aria-keyshortcuts="a"
          >
            Acknowledge <kbd>a</kbd>
          </button>
          <button
            type="button"
            disabled={busy || !actionable.length}
            onClick={() => setDialog('dismiss')}
            aria-keyshortcuts="d"
          >
            Dismiss… <kbd>d</kbd>
          </button>
          <button
            type="button"
            disabled={busy || !actionable.length}
            onClick={() => setDialog('promote')}
            aria-keyshortcuts="p"
          >
            Promote… <kbd>p</kbd>
          </button>
          <button
            type="button"
            disabled={busy || !actionable.length}
            onClick={() => setDialog('merge')}
            aria-keyshortcuts="m"
          >
            Merge into incident… <kbd>m</kbd>
          </button>
        </div>
      )}

      <ErrorNotice error={error} />

      <div className="split">
        <div className="list-pane">
          <table className="grid" aria-label="Alerts" aria-busy={loading}>
            <thead>
              <tr>
                <th scope="col" className="col-check">
                  <input
                    type="checkbox"
                    aria-label="Select all shown alerts"
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(items.map((a) => a.id)))}
                  />
                </th>
                <th scope="col" className="col-sev">
                  Severity
                </th>
                <th scope="col">Title</th>
                <th scope="col" className="col-source">
                  Source
                </th>
                <th scope="col" className="col-status">
                  Status
                </th>
                <th scope="col" className="col-num">
                  Count
                </th>
                <th scope="col" className="col-time">
                  Last seen
                </th>
              </tr>
            </thead>
            <tbody ref={tableRef}>
              <GridRows
                loading={loading}
                items={items}
                columns={7}
                empty="No alerts match these filters."
                row={(alert, index) => (
                  <tr
                    key={alert.id}
                    className={index === focus ? 'focused' : undefined}
                    aria-selected={selected.has(alert.id)}
                    data-alert-id={alert.id}
                    onClick={() => setFocus(index)}
                  >
                    <td className="col-check">
                      <input
                        type="checkbox"
                        aria-label={`Select ${alert.title}`}
                        checked={selected.has(alert.id)}
                        onClick={(e) => e.stopPropagation()}
                        onChange={() =>
                          setSelected((s) => {
                            const next = new Set(s);
                            if (next.has(alert.id)) next.delete(alert.id);
                            else next.add(alert.id);
                            return next;
                          })
                        }
                      />
                    </td>
                    <td className="col-sev">
                      <SeverityBadge severity={alert.severity} />
                    </td>
                    <td className="ellipsis">
                      <button type="button" className="link-button" onClick={() => setFocus(index)}>
                        {alert.title}
                      </button>
                    </td>
                    <td className="col-source ellipsis">{alert.source}</td>
                    <td className="col-status">
                      <StatusBadge value={alert.status} />
                    </td>
                    <td className="col-num">{alert.occurrence_count}</td>
                    <td className="col-time">
                      <Time at={alert.last_seen} />
                    </td>
                  </tr>
                )}
              />
            </tbody>
          </table>
          <LoadMore cursor={cursor} loading={loading} onLoad={loadMore} />
        </div>
        <aside className="detail-pane" aria-label="Alert details">
          {focused ? (
            <AlertDetail summary={focused} alert={detail?.id === focused.id ? detail : null} />
          ) : (
            <p className="muted">Choose an alert to see its payload.</p>
          )}
        </aside>
      </div>

      <Dialog title="Dismiss alerts" open={dialog === 'dismiss'} onClose={() => setDialog(null)}>
        <DismissForm
          count={actionable.length}
          busy={busy}
          onCancel={() => setDialog(null)}
          onSubmit={(r, c) => void setStatus('dismissed', r, c)}
        />
      </Dialog>
      <Dialog title="Promote to a new incident" open={dialog === 'promote'} onClose={() => setDialog(null)}>
        <PromoteForm
          alerts={actionable}
          onCancel={() => setDialog(null)}
          onDone={(incident) => {
            setDialog(null);
            toast(`Incident opened: ${incident.title}`);
            navigate(`/incidents/${incident.id}`);
          }}
        />
      </Dialog>
      <Dialog title="Merge into an incident" open={dialog === 'merge'} onClose={() => setDialog(null)}>
        <MergeForm
          alerts={actionable}
          onCancel={() => setDialog(null)}
          onDone={(incident) => {
            setDialog(null);
            toast(`${actionable.length} alert(s) merged into ${incident.title}`);
            setSelected(new Set());
            refresh();
          }}
        />
      </Dialog>
      <Dialog title="Keyboard shortcuts" open={dialog === 'help'} onClose={() => setDialog(null)}>
        <dl className="shortcuts">
          <dt>
            <kbd>j</kbd> / <kbd>k</kbd>
          </dt>
          <dd>next / previous alert</dd>
          <dt>
            <kbd>x</kbd>
          </dt>
          <dd>select or unselect the focused alert</dd>
          <dt>
            <kbd>a</kbd>
          </dt>
          <dd>acknowledge the selected (or focused) alerts</dd>
          <dt>
            <kbd>p</kbd>
          </dt>
          <dd>promote them to a new incident</dd>
          <dt>
            <kbd>m</kbd>
          </dt>
          <dd>merge them into an existing incident</dd>
          <dt>
            <kbd>d</kbd>
          </dt>
          <dd>dismiss them with a reason</dd>
          <dt>
            <kbd>?</kbd>
          </dt>
          <dd>
            this help; <kbd>Esc</kbd> closes it
          </dd>
        </dl>
        <div className="actions">
          <button type="button" className="primary" onClick={() => setDialog(null)} autoFocus>
            Close
          </button>
        </div>
      </Dialog>
    </section>
  );
}

function AlertDetail({ summary, alert }: { summary: AlertSummary; alert: Alert | null }) {
  return (
    <div className="alert-detail">
      <h2 className="detail-title">{summary.title}</h2>
      <dl className="facts">
        <dt>Severity</dt>
        <dd>
          <SeverityBadge severity={summary.severity} />
        </dd>
        <dt>Source</dt>
        <dd>{summary.source}</dd>
        <dt>Rule</dt>
        <dd>{summary.rule ?? '—'}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge value={summary.status} />
          {summary.dismiss_reason ? ` (${label(summary.dismiss_reason)})` : ''}
        </dd>
        <dt>First seen</dt>
        <dd>
          <Time at={summary.first_seen} />
        </dd>
        <dt>Occurrences</dt>
        <dd>{summary.occurrence_count}</dd>
        {summary.incident_id && (
          <>
            <dt>Incident</dt>
            <dd>
              <Link href={`/incidents/${summary.incident_id}`}>Open the incident</Link>
            </dd>
          </>
        )}
      </dl>
      <h3>Observables</h3>
      {alert ? (
        alert.observables.length ? (
          <ul className="chips">
            {alert.observables.map((o) => (
              <li key={o.id} className="chip">
                <span className="chip-type">{label(o.type)}</span> {o.value}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">None extracted.</p>
        )
      ) : (
        <p className="skeleton-line" aria-hidden="true" />
      )}
      <h3>Raw payload</h3>
      {alert ? <JsonView value={alert.payload} /> : <div className="skeleton-block" aria-hidden="true" />}
    </div>
  );
}

function DismissForm({
  count,
  busy,
  onSubmit,
  onCancel,
}: {
  count: number;
  busy: boolean;
  onSubmit: (reason: DismissReason, comment: string) => void;
  onCancel: () => void;
}) {
  const [reason, setReason] = useState<DismissReason>('false_positive');
  const [comment, setComment] = useState('');
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(reason, comment.trim());
      }}
    >
      <p>
        Dismiss {count} alert{count === 1 ? '' : 's'}. Repeats of a dismissed alert stay dismissed.
      </p>
      <label htmlFor="dismiss-reason">Reason</label>
      <select
        id="dismiss-reason"
        value={reason}
        onChange={(e) => setReason(e.target.value as DismissReason)}
        autoFocus
      >
        {DISMISS_REASONS.map((r) => (
          <option key={r} value={r}>
            {label(r)}
          </option>
        ))}
      </select>
      <label htmlFor="dismiss-comment">Comment (optional)</label>
      <textarea id="dismiss-comment" rows={3} value={comment} onChange={(e) => setComment(e.target.value)} />
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          Dismiss
        </button>
      </div>
    </form>
  );
}

function PromoteForm({
  alerts,
  onDone,
  onCancel,
}: {
  alerts: AlertSummary[];
  onDone: (incident: Incident) => void;
  onCancel: () => void;
}) {
  const first = alerts[0];
  const highest = alerts.reduce<Severity>(
    (max, a) => (SEVERITIES.indexOf(a.severity) > SEVERITIES.indexOf(max) ? a.severity : max),
    first?.severity ?? 'medium',
  );
  const [title, setTitle] = useState(first?.title ?? '');
  const [severity, setSeverity] = useState<Severity>(highest);
  const [category, setCategory] = useState<IncidentCategory>('other');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (!first) return null;
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    try {
      const incident = await api<Incident>(`/alerts/${first!.id}/promote`, {
        method: 'POST',
        body: {
          title: title.trim(),
          severity,
          category,
          ...(alerts.length > 1 ? { alert_ids: alerts.slice(1).map((a) => a.id) } : {}),
        },
      });
      onDone(incident);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit}>
      <p>
        Opens an incident with {alerts.length} alert{alerts.length === 1 ? '' : 's'} linked.
      </p>
      <ErrorNotice error={error} />
      <label htmlFor="promote-title">Title</label>
      <input id="promote-title" value={title} required onChange={(e) => setTitle(e.target.value)} autoFocus />
      <div className="row">
        <IncidentClassFields
          idPrefix="promote"
          severity={severity}
          category={category}
          onSeverity={setSeverity}
          onCategory={setCategory}
        />
      </div>
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          Promote
        </button>
      </div>
    </form>
  );
}

function MergeForm({
  alerts,
  onDone,
  onCancel,
}: {
  alerts: AlertSummary[];
  onDone: (incident: Incident) => void;
  onCancel: () => void;
}) {
  const [q, setQ] = useState('');
  const search = useDebounced(q, 250);
  const [incidents, setIncidents] = useState<Incident[] | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const controller = new AbortController();
    api<Page<Incident>>('/incidents', {
      query: {
        phase: ['analysis', 'containment', 'remediation', 'follow_up'],
        q: search.trim(),
        limit: 20,
        sort: 'updated_at',
      },
      signal: controller.signal,
    })
      .then((page) => setIncidents(page.items))
      .catch(() => undefined);
    return () => controller.abort();
  }, [search]);
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!chosen) return;
    try {
      onDone(
        await api<Incident>(`/incidents/${chosen}/alerts`, {
          method: 'POST',
          body: { alert_ids: alerts.map((a) => a.id) },
        }),
      );
    } catch (caught) {
      setError(caught);
    }
  }
  return (
    <form onSubmit={submit}>
      <ErrorNotice error={error} />
      <label htmlFor="merge-q">Find an open incident</label>
      <input id="merge-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} autoFocus />
      <fieldset className="choices">
        <legend>Open incidents</legend>
        {incidents === null ? (
          <p className="muted">Loading…</p>
        ) : incidents.length === 0 ? (
          <p className="muted">No open incident matches.</p>
        ) : (
          incidents.map((incident) => (
            <label key={incident.id} className="choice">
              <input
                type="radio"
                name="merge-target"
                value={incident.id}
                checked={chosen === incident.id}
                onChange={() => setChosen(incident.id)}
              />
              <SeverityBadge severity={incident.severity} /> {incident.title}{' '}
              <span className="muted">({label(incident.phase)})</span>
            </label>
          ))
        )}
      </fieldset>
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={!chosen}>
          Merge {alerts.length} alert{alerts.length === 1 ? '' : 's'}
        </button>
      </div>
    </form>
  );
}
