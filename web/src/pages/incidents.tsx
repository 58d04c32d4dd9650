/** Incidents: filter by phase, severity and category, search, sort, keyset pages; open one. */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { PHASES } from '../../../src/core/incident-lifecycle.js';
import { SEVERITIES } from '../../../src/core/vocabulary.js';
import { api, type Incident, type IncidentCategory, type Phase, type Severity } from '../api.js';
import { CATEGORY_CHOICES, ChoiceField, IncidentClassFields, TextField } from '../components/fields.js';
import { GridHead, GridRows } from '../components/grid.js';
import { useToast } from '../components/toast.js';
import { Dialog, ErrorNotice, label, SeverityBadge, StatusBadge, Time, LoadMore } from '../components/ui.js';
import { useLive } from '../live.js';
import { usePagedList } from '../paged-list.js';
import { canWrite, useUser } from '../session.js';

const SORTS = [
  { value: 'created_at:desc', label: 'Newest first' },
  { value: 'created_at:asc', label: 'Oldest first' },
  { value: 'updated_at:desc', label: 'Recently changed' },
  { value: 'severity:desc', label: 'Most severe' },
  { value: 'detected_at:desc', label: 'Detected, latest first' },
];

const OPEN: Phase[] = ['analysis', 'containment', 'remediation', 'follow_up'];

export function IncidentList() {
  const user = useUser();
  const [, navigate] = useLocation();
  const initial = new URLSearchParams(window.location.search);
  const [phase, setPhase] = useState<Phase[]>(
    initial.has('phase')
      ? (initial
          .get('phase')!
          .split(',')
          .filter((p) => (PHASES as readonly string[]).includes(p)) as Phase[])
      : OPEN,
  );
  const [severity, setSeverity] = useState<Severity | ''>((initial.get('severity') as Severity | null) ?? '');
  const [category, setCategory] = useState<IncidentCategory | ''>('');
  const [q, setQ] = useState(initial.get('q') ?? '');
  const [search, setSearch] = useState(q);
  const [sort, setSort] = useState('created_at:desc');
  const [creating, setCreating] = useState(false);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const timer = setTimeout(() => setSearch(q), 250);
    return () => clearTimeout(timer);
  }, [q]);

  const query = useMemo(() => {
    const [by, order] = sort.split(':');
    return {
      phase,
      severity: severity ? [severity] : [],
      category: category ? [category] : [],
      q: search.trim(),
      sort: by,
      order,
      limit: 50,
    };
  }, [phase, severity, category, search, sort]);

  useEffect(() => {
    const params = new URLSearchParams();
    params.set('phase', phase.join(','));
    if (severity) params.set('severity', severity);
    if (search) params.set('q', search);
    window.history.replaceState(window.history.state, '', `${window.location.pathname}?${params}`);
  }, [phase, severity, search]);

  const { items, cursor, loading, error, loadMore } = usePagedList<Incident>('/incidents', query, {
    reload: version,
  });

  useLive((event) => {
    if (event.target.type === 'incident' && items.length <= 50) setVersion((v) => v + 1);
  });

  const togglePhase = (p: Phase) =>
    setPhase((list) => (list.includes(p) ? list.filter((x) => x !== p) : [...list, p]));

  return (
    <section className="page" aria-labelledby="incidents-title">
      <div className="page-head">
        <h1 id="incidents-title">Incidents</h1>
        {canWrite(user.role) && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New incident
          </button>
        )}
      </div>
      <form
        className="filters"
        role="search"
        aria-label="Filter incidents"
        onSubmit={(e) => e.preventDefault()}
      >
        <fieldset>
          <legend>Phase</legend>
          {PHASES.map((p) => (
            <label key={p} className="check">
              <input type="checkbox" checked={phase.includes(p)} onChange={() => togglePhase(p)} />
              {label(p)}
            </label>
          ))}
        </fieldset>
        <ChoiceField
          id="inc-severity"
          label="Severity"
          value={severity}
          onChange={setSeverity}
          choices={SEVERITIES}
          any="any"
        />
        <ChoiceField
          id="inc-category"
          label="Category"
          value={category}
          onChange={setCategory}
          choices={CATEGORY_CHOICES}
          any="any"
        />
        <TextField
          id="inc-q"
          label="Search"
          type="search"
          value={q}
          onChange={setQ}
          placeholder="title or description contains…"
          grow
        />
        <ChoiceField id="inc-sort" label="Sort" value={sort} onChange={setSort} choices={SORTS} />
      </form>
      <ErrorNotice error={error} />
      <table className="grid" aria-label="Incidents" aria-busy={loading}>
        <GridHead
          columns={[
            { label: 'Severity', className: 'col-sev' },
            { label: 'Title' },
            { label: 'Phase', className: 'col-status' },
            { label: 'Category', className: 'col-source' },
            { label: 'Opened', className: 'col-time' },
            { label: 'Updated', className: 'col-time' },
          ]}
        />
        <tbody>
          <GridRows
            loading={loading}
            items={items}
            columns={6}
            empty="No incidents match."
            row={(incident) => (
              <tr key={incident.id}>
                <td className="col-sev">
                  <SeverityBadge severity={incident.severity} />
                </td>
                <td className="ellipsis">
                  <Link href={`/incidents/${incident.id}`}>{incident.title}</Link>
                </td>
                <td className="col-status">
                  <StatusBadge value={incident.phase} />
                </td>
                <td className="col-source ellipsis">{label(incident.category)}</td>
                <td className="col-time">
                  <Time at={incident.created_at} />
                </td>
                <td className="col-time">
                  <Time at={incident.updated_at} />
                </td>
              </tr>
            )}
          />
        </tbody>
      </table>
      <LoadMore cursor={cursor} loading={loading} onLoad={loadMore} />
      <Dialog title="New incident" open={creating} onClose={() => setCreating(false)}>
        <CreateIncident
          onCancel={() => setCreating(false)}
          onDone={(incident) => navigate(`/incidents/${incident.id}`)}
        />
      </Dialog>
    </section>
  );
}

function CreateIncident({
  onDone,
  onCancel,
}: {
  onDone: (incident: Incident) => void;
  onCancel: () => void;
}) {
  const toast = useToast();
  const [title, setTitle] = useState('');
  const [severity, setSeverity] = useState<Severity>('medium');
  const [category, setCategory] = useState<IncidentCategory>('other');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      const incident = await api<Incident>('/incidents', {
        method: 'POST',
        body: { title: title.trim(), severity, category, ...(description.trim() ? { description } : {}) },
      });
      toast('Incident opened');
      onDone(incident);
    } catch (caught) {
      setError(caught);
    }
  }
  return (
    <form onSubmit={submit}>
      <ErrorNotice error={error} />
      <label htmlFor="new-title">Title</label>
      <input id="new-title" required value={title} onChange={(e) => setTitle(e.target.value)} autoFocus />
      <div className="row">
        <IncidentClassFields
          idPrefix="new"
          severity={severity}
          category={category}
          onSeverity={setSeverity}
          onCategory={setCategory}
        />
      </div>
      <label htmlFor="new-description">Description (Markdown)</label>
      <textarea
        id="new-description"
        rows={4}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
      />
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary">
          Open incident
        </button>
      </div>
    </form>
  );
}
