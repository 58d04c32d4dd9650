/**
 * One incident: the phase stepper with the lifecycle rules, the timeline at the centre (audit records and
 * the linked alerts' events, where any value can become an observable in one click), observables with
 * "seen in other incidents", tasks, Markdown notes and linked alerts. Later panels (playbook runs,
 * evidence, deadlines) slot into the side column.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { PHASES } from '../../../src/core/incident-lifecycle.js';
import { ANALYSIS_RESOLUTIONS, OBSERVABLE_TYPES } from '../../../src/core/vocabulary.js';
import {
  api,
  ApiError,
  describeError,
  type Alert,
  type AlertSummary,
  type Incident,
  type Lookup,
  type Note,
  type Observable,
  type ObservableType,
  type Page,
  type Phase,
  type Task,
  type TimelineEntry,
} from '../api.js';
import { useToast } from '../components/toast.js';
import {
  Dialog,
  ErrorNotice,
  formatDuration,
  label,
  SeverityBadge,
  ShowHidden,
  StatusBadge,
  Time,
  useFold,
} from '../components/ui.js';
import { useLive } from '../live.js';
import { Markdown } from '../markdown.js';
import { canWrite, useUser } from '../session.js';
import { Timeline } from './incident-timeline.js';

interface IncidentData {
  incident: Incident;
  timeline: TimelineEntry[];
  alerts: Alert[];
  observables: Observable[];
  tasks: Task[];
  notes: Note[];
}

/** Alerts whose payload is shown in the timeline; more are listed but not expanded. */
const MAX_ALERT_EVENTS = 50;

async function loadIncident(id: string, signal: AbortSignal): Promise<IncidentData> {
  const get = <T,>(path: string, query?: Record<string, string | number>) =>
    api<T>(path, { signal, ...(query ? { query } : {}) });
  // The timeline (usually the largest answer) is read beside the rest, not after it.
  const readTimeline = async (): Promise<TimelineEntry[]> => {
    const entries: TimelineEntry[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<TimelineEntry> = await get<Page<TimelineEntry>>(`/incidents/${id}/timeline`, {
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      entries.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && entries.length < 10_000);
    return entries;
  };
  const [incident, observables, tasks, notes, linked, timeline] = await Promise.all([
    get<Incident>(`/incidents/${id}`),
    get<{ items: Observable[] }>(`/incidents/${id}/observables`),
    get<{ items: Task[] }>(`/incidents/${id}/tasks`),
    get<{ items: Note[] }>(`/incidents/${id}/notes`),
    get<Page<AlertSummary>>(`/incidents/${id}/alerts`, { limit: 500 }),
    readTimeline(),
  ]);
  const alerts = await Promise.all(
    linked.items.slice(0, MAX_ALERT_EVENTS).map((a) => get<Alert>(`/alerts/${a.id}`)),
  );
  const rest = linked.items.slice(MAX_ALERT_EVENTS).map((a) => ({ ...a, payload: null, observables: [] }));
  return {
    incident,
    timeline,
    alerts: [...alerts, ...rest],
    observables: observables.items,
    tasks: tasks.items,
    notes: notes.items,
  };
}

type TransitionMode = { to: Phase; need: 'reason' | 'resolution' | 'review' | null };

/** What moving from `from` to `to` needs, or null when the rules forbid it. Mirrors core/incident-lifecycle. */
export function transitionNeeds(from: Phase, to: Phase): TransitionMode | null {
  const a = PHASES.indexOf(from);
  const b = PHASES.indexOf(to);
  if (a === b) return null;
  if (b < a) return { to, need: 'reason' };
  if (to === 'closed') {
    if (from === 'analysis') return { to, need: 'resolution' };
    if (from === 'follow_up') return { to, need: 'review' };
    return null;
  }
  return b === a + 1 ? { to, need: null } : null;
}

export function IncidentPage({ id }: { id: string }) {
  const user = useUser();
  const writer = canWrite(user.role);
  const toast = useToast();
  const [data, setData] = useState<IncidentData | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [transitionTo, setTransitionTo] = useState<TransitionMode | null>(null);
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);

  useEffect(() => {
    const controller = new AbortController();
    loadIncident(id, controller.signal)
      .then((loaded) => {
        setData(loaded);
        setError(null);
      })
      .catch((caught: unknown) => {
        if (caught instanceof DOMException) return;
        setError(caught);
      });
    return () => controller.abort();
  }, [id, version]);

  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLive((event) => {
    if (event.incident_id !== id && event.target.id !== id) return;
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(reload, 150);
  });

  const known = useMemo(
    () => new Set((data?.observables ?? []).map((o) => `${o.type}:${o.value.toLowerCase()}`)),
    [data?.observables],
  );

  const addObservable = useCallback(
    async (type: ObservableType, value: string) => {
      try {
        await api(`/incidents/${id}/observables`, { method: 'POST', body: { type, value } });
        toast(`Added ${label(type)} ${value} as an observable`);
        reload();
      } catch (caught) {
        toast(describeError(caught), 'error');
      }
    },
    [id, reload, toast],
  );

  async function move(mode: TransitionMode, extra: Record<string, string> = {}) {
    try {
      await api(`/incidents/${id}/transitions`, { method: 'POST', body: { to: mode.to, ...extra } });
      toast(`Moved to ${label(mode.to)}`);
      setTransitionTo(null);
      reload();
    } catch (caught) {
      toast(describeError(caught), 'error');
      throw caught;
    }
  }

  if (error) {
    return (
      <section className="page">
        <h1>Incident</h1>
        {error instanceof ApiError && error.status === 404 ? (
          <p className="notice error" role="alert">
            This incident does not exist, or it belongs to another organisation.{' '}
            <Link href="/incidents">Back to incidents</Link>
          </p>
        ) : (
          <ErrorNotice error={error} />
        )}
      </section>
    );
  }
  if (!data) return <IncidentSkeleton />;
  const { incident } = data;

  return (
    <section className="page incident-page" aria-labelledby="incident-title">
      <div className="page-head">
        <div>
          <p className="crumbs">
            <Link href="/incidents">Incidents</Link> /
          </p>
          <h1 id="incident-title">{incident.title}</h1>
          <p className="meta">
            <SeverityBadge severity={incident.severity} /> <StatusBadge value={incident.phase} />{' '}
            {label(incident.category)} · TLP:
            {incident.tlp.toUpperCase()} · opened <Time at={incident.created_at} />
            {incident.personal_data && <span className="badge warn">personal data</span>}
          </p>
        </div>
        {writer && !incident.acknowledged_at && (
          <button
            type="button"
            onClick={() =>
              void api(`/incidents/${id}/acknowledge`, { method: 'POST' })
                .then(() => {
                  toast('Acknowledged');
                  reload();
                })
                .catch((e: unknown) => toast(describeError(e), 'error'))
            }
          >
            Acknowledge
          </button>
        )}
      </div>

      <PhaseStepper
        incident={incident}
        writer={writer}
        onChoose={setTransitionTo}
        onForward={(m) => void move(m).catch(() => undefined)}
      />

      <div className="incident-grid">
        <div className="incident-main">
          {incident.description && (
            <section className="card" aria-labelledby="desc-title">
              <h2 id="desc-title">Description</h2>
              <Markdown text={incident.description} />
            </section>
          )}
          {incident.review_summary && (
            <section className="card" aria-labelledby="review-title">
              <h2 id="review-title">Review summary</h2>
              <Markdown text={incident.review_summary} />
            </section>
          )}
          <Timeline
            timeline={data.timeline}
            alerts={data.alerts}
            onAdd={writer && incident.phase !== 'closed' ? addObservable : undefined}
            known={known}
          />
          <Notes incidentId={id} notes={data.notes} writer={writer} onChange={reload} />
        </div>
        <aside className="incident-side" aria-label="Incident details">
          <Milestones incident={incident} />
          <Observables incidentId={id} observables={data.observables} writer={writer} onAdd={addObservable} />
          <Tasks incidentId={id} tasks={data.tasks} writer={writer} onChange={reload} />
          <LinkedAlerts alerts={data.alerts} />
        </aside>
      </div>

      <Dialog
        title={
          transitionTo?.need === 'reason'
            ? `Move back to ${label(transitionTo.to)}`
            : transitionTo?.need === 'resolution'
              ? 'Close from analysis'
              : 'Close the incident'
        }
        open={transitionTo !== null && transitionTo.need !== null}
        onClose={() => setTransitionTo(null)}
      >
        {transitionTo && (
          <TransitionForm
            mode={transitionTo}
            onCancel={() => setTransitionTo(null)}
            onSubmit={(extra) => move(transitionTo, extra)}
          />
        )}
      </Dialog>
    </section>
  );
}

function PhaseStepper({
  incident,
  writer,
  onChoose,
  onForward,
}: {
  incident: Incident;
  writer: boolean;
  onChoose: (mode: TransitionMode) => void;
  onForward: (mode: TransitionMode) => void;
}) {
  const current = PHASES.indexOf(incident.phase);
  return (
    <nav className="stepper" aria-label="Phase">
      <ol>
        {PHASES.map((phase, index) => {
          const mode = transitionNeeds(incident.phase, phase);
          const state = index < current ? 'done' : index === current ? 'current' : 'todo';
          const entered = incident.phase_entered_at[phase];
          const content = (
            <>
              <span className="step-index" aria-hidden="true">
                {state === 'done' ? '✓' : index + 1}
              </span>
              <span className="step-label">{label(phase)}</span>
              {entered && index <= current && <Time at={entered} />}
            </>
          );
          return (
            <li
              key={phase}
              className={`step ${state}`}
              aria-current={state === 'current' ? 'step' : undefined}
            >
              {writer && mode ? (
                <button
                  type="button"
                  className="step-button"
                  data-phase={phase}
                  title={
                    mode.need === 'reason'
                      ? 'Move back (asks for a reason)'
                      : mode.need === 'resolution'
                        ? 'Close from analysis (asks for a resolution)'
                        : mode.need === 'review'
                          ? 'Close (asks for the review summary)'
                          : `Move to ${label(phase)}`
                  }
                  onClick={() => (mode.need ? onChoose(mode) : onForward(mode))}
                >
                  {content}
                  <span className="visually-hidden">
                    {mode.need === 'reason'
                      ? ' (move back)'
                      : phase === 'closed'
                        ? ' (close)'
                        : ' (move here)'}
                  </span>
                </button>
              ) : (
                <span className="step-static">{content}</span>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

function TransitionForm({
  mode,
  onSubmit,
  onCancel,
}: {
  mode: TransitionMode;
  onSubmit: (extra: Record<string, string>) => Promise<void>;
  onCancel: () => void;
}) {
  const [text, setText] = useState('');
  const [resolution, setResolution] = useState<string>('false_positive');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode.need === 'reason') await onSubmit({ reason: text.trim() });
      else if (mode.need === 'resolution') await onSubmit({ resolution });
      else await onSubmit({ review_summary: text.trim() });
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit}>
      <ErrorNotice error={error} />
      {mode.need === 'resolution' ? (
        <>
          <p>Closing straight from analysis records how it ended.</p>
          <label htmlFor="resolution">Resolution</label>
          <select
            id="resolution"
            value={resolution}
            onChange={(e) => setResolution(e.target.value)}
            autoFocus
          >
            {ANALYSIS_RESOLUTIONS.map((r) => (
              <option key={r} value={r}>
                {label(r)}
              </option>
            ))}
          </select>
        </>
      ) : (
        <>
          <p>
            {mode.need === 'reason'
              ? 'Moving back redoes the later phases; their milestones are cleared. Say why.'
              : 'Closing from follow-up needs the post-incident review: what happened, what was done, what changes.'}
          </p>
          <label htmlFor="transition-text">
            {mode.need === 'reason' ? 'Reason' : 'Review summary (Markdown)'}
          </label>
          <textarea
            id="transition-text"
            rows={mode.need === 'reason' ? 3 : 8}
            required
            value={text}
            onChange={(e) => setText(e.target.value)}
            autoFocus
          />
        </>
      )}
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className="primary"
          disabled={busy || (mode.need !== 'resolution' && !text.trim())}
        >
          {mode.need === 'reason' ? `Move back to ${label(mode.to)}` : 'Close incident'}
        </button>
      </div>
    </form>
  );
}

function Milestones({ incident }: { incident: Incident }) {
  const d = incident.durations;
  return (
    <section className="card" aria-labelledby="milestones-title">
      <h2 id="milestones-title">Milestones</h2>
      <dl className="facts">
        <dt>Detected</dt>
        <dd>
          <Time at={incident.detected_at} />
        </dd>
        <dt>To acknowledge</dt>
        <dd>{formatDuration(d.to_acknowledge_s)}</dd>
        <dt>To contain</dt>
        <dd>{formatDuration(d.to_contain_s)}</dd>
        <dt>To remediate</dt>
        <dd>{formatDuration(d.to_remediate_s)}</dd>
        <dt>To close</dt>
        <dd>{formatDuration(d.to_close_s)}</dd>
        {incident.resolution && (
          <>
            <dt>Resolution</dt>
            <dd>{label(incident.resolution)}</dd>
          </>
        )}
      </dl>
    </section>
  );
}

function Observables({
  incidentId,
  observables,
  writer,
  onAdd,
}: {
  incidentId: string;
  observables: Observable[];
  writer: boolean;
  onAdd: (type: ObservableType, value: string) => Promise<void>;
}) {
  const shownObservables = useFold(observables, 50);
  const [type, setType] = useState<ObservableType>('ip');
  const [value, setValue] = useState('');
  const [lookup, setLookup] = useState<{ observable: Observable; result: Lookup | null } | null>(null);
  async function open(observable: Observable) {
    setLookup({ observable, result: null });
    try {
      const result = await api<Lookup>('/observables/lookup', {
        query: { type: observable.type, value: observable.value },
      });
      setLookup({ observable, result });
    } catch {
      setLookup(null);
    }
  }
  return (
    <section className="card" aria-labelledby="observables-title">
      <h2 id="observables-title">Observables ({observables.length})</h2>
      {observables.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <ul className="observables" aria-label="Observables">
          {shownObservables.shown.map((o) => (
            <li key={o.id}>
              <span className="chip-type">{label(o.type)}</span> <code className="break">{o.value}</code>
              {o.ioc && <span className="badge sev-high">IOC</span>}
              {(o.other_incidents ?? 0) > 0 ? (
                <button type="button" className="link-button small" onClick={() => void open(o)}>
                  seen in {o.other_incidents} other incident{o.other_incidents === 1 ? '' : 's'}
                </button>
              ) : (
                <span className="muted small"> only here</span>
              )}
            </li>
          ))}
        </ul>
      )}
      <ShowHidden hidden={shownObservables.hidden} noun="observables" onClick={shownObservables.expand} />
      {writer && (
        <form
          className="inline-form"
          aria-label="Add an observable"
          onSubmit={(e) => {
            e.preventDefault();
            if (!value.trim()) return;
            void onAdd(type, value.trim()).then(() => setValue(''));
          }}
        >
          <label htmlFor="obs-type" className="visually-hidden">
            Type
          </label>
          <select id="obs-type" value={type} onChange={(e) => setType(e.target.value as ObservableType)}>
            {OBSERVABLE_TYPES.map((t) => (
              <option key={t} value={t}>
                {label(t)}
              </option>
            ))}
          </select>
          <label htmlFor="obs-value" className="visually-hidden">
            Value
          </label>
          <input
            id="obs-value"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            placeholder="value"
          />
          <button type="submit">Add</button>
        </form>
      )}
      <Dialog
        title={lookup ? `${label(lookup.observable.type)} ${lookup.observable.value}` : ''}
        open={lookup !== null}
        onClose={() => setLookup(null)}
      >
        {lookup?.result ? (
          <>
            <h3>Incidents</h3>
            <ul>
              {lookup.result.incidents
                .filter((hit) => hit.id !== incidentId)
                .map((hit) => (
                  <li key={hit.id}>
                    <SeverityBadge severity={hit.severity} />{' '}
                    <Link href={`/incidents/${hit.id}`} onClick={() => setLookup(null)}>
                      {hit.title}
                    </Link>{' '}
                    <span className="muted">{hit.phase ? label(hit.phase) : ''}</span>
                  </li>
                ))}
            </ul>
            <h3>Alerts</h3>
            <p>{lookup.result.alerts.length} alert(s) carried this value.</p>
          </>
        ) : (
          <p>Looking up…</p>
        )}
        <div className="actions">
          <button type="button" onClick={() => setLookup(null)}>
            Close
          </button>
        </div>
      </Dialog>
    </section>
  );
}

function Tasks({
  incidentId,
  tasks,
  writer,
  onChange,
}: {
  incidentId: string;
  tasks: Task[];
  writer: boolean;
  onChange: () => void;
}) {
  const shownTasks = useFold(tasks, 50);
  const toast = useToast();
  const [title, setTitle] = useState('');
  async function add(event: FormEvent) {
    event.preventDefault();
    if (!title.trim()) return;
    try {
      await api(`/incidents/${incidentId}/tasks`, { method: 'POST', body: { title: title.trim() } });
      setTitle('');
      onChange();
    } catch (caught) {
      toast(describeError(caught), 'error');
    }
  }
  async function toggle(task: Task) {
    try {
      await api(`/incidents/${incidentId}/tasks/${task.id}`, {
        method: 'PATCH',
        body: { status: task.status === 'done' ? 'open' : 'done' },
      });
      onChange();
    } catch (caught) {
      toast(describeError(caught), 'error');
    }
  }
  const done = tasks.filter((t) => t.status === 'done').length;
  return (
    <section className="card" aria-labelledby="tasks-title">
      <h2 id="tasks-title">
        Tasks ({done}/{tasks.length})
      </h2>
      <ul className="tasks">
        {shownTasks.shown.map((task) => (
          <li key={task.id} className={task.status}>
            {writer ? (
              <label className="check">
                <input type="checkbox" checked={task.status === 'done'} onChange={() => void toggle(task)} />
                {task.title}
              </label>
            ) : (
              <span>
                {task.status === 'done' ? '✓ ' : '○ '}
                {task.title}
              </span>
            )}
          </li>
        ))}
      </ul>
      <ShowHidden hidden={shownTasks.hidden} noun="tasks" onClick={shownTasks.expand} />
      {writer && (
        <form className="inline-form" onSubmit={add} aria-label="Add a task">
          <label htmlFor="task-title" className="visually-hidden">
            New task
          </label>
          <input
            id="task-title"
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            placeholder="New task"
          />
          <button type="submit">Add</button>
        </form>
      )}
    </section>
  );
}

function Notes({
  incidentId,
  notes,
  writer,
  onChange,
}: {
  incidentId: string;
  notes: Note[];
  writer: boolean;
  onChange: () => void;
}) {
  // The newest notes matter most during an incident: older ones fold away.
  const shownNotes = useFold(notes, 20, 'last');
  const toast = useToast();
  const [body, setBody] = useState('');
  const [preview, setPreview] = useState(false);
  async function add(event: FormEvent) {
    event.preventDefault();
    if (!body.trim()) return;
    try {
      await api(`/incidents/${incidentId}/notes`, { method: 'POST', body: { body } });
      setBody('');
      setPreview(false);
      onChange();
    } catch (caught) {
      toast(describeError(caught), 'error');
    }
  }
  return (
    <section className="card" aria-labelledby="notes-title">
      <h2 id="notes-title">Notes</h2>
      {notes.length === 0 && <p className="muted">No notes yet.</p>}
      <ShowHidden hidden={shownNotes.hidden} noun="earlier notes" onClick={shownNotes.expand} />
      <ol className="notes">
        {shownNotes.shown.map((note) => (
          <li key={note.id} className="note">
            <p className="note-head">
              <strong>{note.author.name}</strong> <Time at={note.created_at} />
              {note.updated_at !== note.created_at && <span className="muted"> (edited)</span>}
            </p>
            <Markdown text={note.body} />
          </li>
        ))}
      </ol>
      {writer && (
        <form onSubmit={add} aria-label="Add a note">
          <label htmlFor="note-body">New note (Markdown)</label>
          {preview ? (
            <div className="note-preview">
              <Markdown text={body || '*Nothing to preview*'} />
            </div>
          ) : (
            <textarea id="note-body" rows={4} value={body} onChange={(e) => setBody(e.target.value)} />
          )}
          <div className="actions">
            <button type="button" onClick={() => setPreview((p) => !p)} aria-pressed={preview}>
              {preview ? 'Edit' : 'Preview'}
            </button>
            <button type="submit" className="primary" disabled={!body.trim()}>
              Add note
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function LinkedAlerts({ alerts }: { alerts: Alert[] }) {
  const shownAlerts = useFold(alerts, 50);
  return (
    <section className="card" aria-labelledby="linked-title">
      <h2 id="linked-title">Linked alerts ({alerts.length})</h2>
      {alerts.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="linked">
          {shownAlerts.shown.map((a) => (
            <li key={a.id}>
              <SeverityBadge severity={a.severity} /> {a.title}{' '}
              <span className="muted small">{a.source}</span>
            </li>
          ))}
        </ul>
      )}
      <ShowHidden hidden={shownAlerts.hidden} noun="alerts" onClick={shownAlerts.expand} />
    </section>
  );
}

function IncidentSkeleton() {
  return (
    <section className="page incident-page" aria-busy="true" aria-label="Loading the incident">
      <div className="page-head">
        <div className="skeleton-title" />
      </div>
      <div className="stepper skeleton-stepper" />
      <div className="incident-grid">
        <div className="incident-main">
          <div className="card skeleton-block tall" />
        </div>
        <aside className="incident-side">
          <div className="card skeleton-block" />
          <div className="card skeleton-block" />
        </aside>
      </div>
    </section>
  );
}
