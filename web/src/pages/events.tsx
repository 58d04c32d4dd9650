/**
 * Events: search what was received (GET /events) by time range and the query language of the route
 * (`field:value`, `field:"a value"`, `-field:value`, bare words), newest first, keyset pages. Choosing an
 * event shows its normalised fields beside the raw form; a field value adds `field:value` to the query.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { EventRecord } from '../api.js';
import { JsonView } from '../components/json-view.js';
import { ErrorNotice, LoadMore } from '../components/ui.js';
import { addTerm, fieldTerm } from '../event-terms.js';
import { usePagedList } from '../paged-list.js';
import { GridHead, GridRows } from '../components/grid.js';

const PRESETS = [
  { id: '15m', label: '15 min', ms: 15 * 60_000 },
  { id: '1h', label: '1 h', ms: 3_600_000 },
  { id: '24h', label: '24 h', ms: 86_400_000 },
  { id: '7d', label: '7 d', ms: 7 * 86_400_000 },
  { id: 'custom', label: 'Custom', ms: 0 },
] as const;
type PresetId = (typeof PRESETS)[number]['id'];
const PAGE_SIZE = 100;

function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

interface Search {
  q: string;
  preset: PresetId;
  from: string;
  to: string;
  /** Bumped to run the same search again (a new "now" for the presets). */
  run: number;
}

function searchFromUrl(): Search {
  const params = new URLSearchParams(window.location.search);
  const preset = (PRESETS.find((p) => p.id === params.get('range'))?.id ?? '24h') as PresetId;
  return {
    q: params.get('q') ?? '',
    preset,
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    run: 0,
  };
}

const text = (value: unknown): string =>
  value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);

function first(fields: Record<string, unknown>, ...keys: string[]): string {
  for (const key of keys) {
    const value = fields[key];
    if (value !== undefined && value !== null && value !== '') return text(value);
  }
  return '';
}

function messageOf(event: EventRecord): string {
  return first(event.fields, 'message', 'event.original') || text(event.raw);
}

export function EventSearch() {
  const [search, setSearch] = useState<Search>(searchFromUrl);
  const [draft, setDraft] = useState(search.q);
  const [selected, setSelected] = useState<string | null>(null);
  const queryRef = useRef<HTMLInputElement>(null);

  const apiQuery = useMemo(() => {
    const preset = PRESETS.find((p) => p.id === search.preset)!;
    const from =
      search.preset === 'custom'
        ? fromLocalInput(search.from)
        : new Date(Date.now() - preset.ms).toISOString();
    const to = search.preset === 'custom' ? fromLocalInput(search.to) : undefined;
    return { q: search.q.trim(), from, to, limit: PAGE_SIZE };
    // search.run makes a new "now" for the same preset.
  }, [search]);

  useEffect(() => {
    const params = new URLSearchParams();
    if (search.q) params.set('q', search.q);
    params.set('range', search.preset);
    if (search.preset === 'custom') {
      if (search.from) params.set('from', search.from);
      if (search.to) params.set('to', search.to);
    }
    window.history.replaceState(window.history.state, '', `${window.location.pathname}?${params}`);
  }, [search]);

  const { items, cursor, loading, error, loadMore } = usePagedList<EventRecord>('/events', apiQuery, {
    onFirstPage: (page) => setSelected(page.items[0]?.id ?? null),
    clearOnError: true,
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setSearch((s) => ({ ...s, q: draft, run: s.run + 1 }));
  }

  function refine(field: string, value: unknown) {
    const next = addTerm(draft, fieldTerm(field, text(value)));
    setDraft(next);
    setSearch((s) => ({ ...s, q: next, run: s.run + 1 }));
    queryRef.current?.focus();
  }

  const chosen = items.find((e) => e.id === selected) ?? null;

  return (
    <section className="page events-page" aria-labelledby="events-title">
      <div className="page-head">
        <h1 id="events-title">Events</h1>
      </div>
      <form className="filters" role="search" aria-label="Search events" onSubmit={submit}>
        <div className="field grow">
          <label htmlFor="event-q">Query</label>
          <input
            id="event-q"
            ref={queryRef}
            type="search"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder='user.name:alice -event.outcome:success "failed password"'
            aria-describedby="event-q-help"
            spellCheck={false}
          />
        </div>
        <fieldset className="presets">
          <legend>Time range</legend>
          {PRESETS.map((preset) => (
            <label key={preset.id} className="check">
              <input
                type="radio"
                name="event-range"
                checked={search.preset === preset.id}
                onChange={() =>
                  setSearch((s) => ({
                    ...s,
                    preset: preset.id,
                    from:
                      preset.id === 'custom' && !s.from
                        ? toLocalInput(new Date(Date.now() - 86_400_000).toISOString())
                        : s.from,
                    run: s.run + 1,
                  }))
                }
              />
              {preset.label}
            </label>
          ))}
        </fieldset>
        {search.preset === 'custom' && (
          <>
            <div className="field">
              <label htmlFor="event-from">From</label>
              <input
                id="event-from"
                type="datetime-local"
                value={search.from}
                onChange={(e) => setSearch((s) => ({ ...s, from: e.target.value }))}
              />
            </div>
            <div className="field">
              <label htmlFor="event-to">To</label>
              <input
                id="event-to"
                type="datetime-local"
                value={search.to}
                onChange={(e) => setSearch((s) => ({ ...s, to: e.target.value }))}
              />
            </div>
          </>
        )}
        <div className="field end">
          <button type="submit" className="primary">
            Search
          </button>
        </div>
      </form>
      <p id="event-q-help" className="muted small">
        <code>field:value</code> (normalised ECS field, <code>*</code> wildcard), <code>field:"a value"</code>
        , <code>-field:value</code> excludes, bare words or <code>"a phrase"</code> search the raw event. All
        terms must hold. Click a field value of an event to add it.
      </p>
      <ErrorNotice error={error} />
      <div className="split">
        <div className="list-pane">
          <table className="grid events-grid" aria-label="Events" aria-busy={loading}>
            <GridHead
              columns={[
                { label: 'Time (UTC)', className: 'col-time-abs' },
                { label: 'Source', className: 'col-source' },
                { label: 'Parser', className: 'col-parser' },
                { label: 'Host', className: 'col-source' },
                { label: 'User', className: 'col-source' },
                { label: 'Message' },
              ]}
            />
            <tbody>
              <GridRows
                loading={loading}
                items={items}
                columns={6}
                empty="No events match in this time range."
                row={(event) => (
                  <tr
                    key={event.id}
                    className={event.id === selected ? 'focused' : undefined}
                    aria-selected={event.id === selected}
                    data-event-id={event.id}
                    onClick={() => setSelected(event.id)}
                  >
                    <td className="col-time-abs">
                      <time dateTime={event.timestamp}>{event.timestamp.slice(0, 19).replace('T', ' ')}</time>
                    </td>
                    <td className="col-source ellipsis">{event.source.name ?? event.source.kind}</td>
                    <td className="col-parser ellipsis">{event.parser}</td>
                    <td className="col-source ellipsis">
                      {first(event.fields, 'host.name', 'host.hostname')}
                    </td>
                    <td className="col-source ellipsis">{first(event.fields, 'user.name')}</td>
                    <td className="ellipsis">
                      <button type="button" className="link-button" onClick={() => setSelected(event.id)}>
                        {messageOf(event).slice(0, 300) || '(no message)'}
                      </button>
                    </td>
                  </tr>
                )}
              />
            </tbody>
          </table>
          <LoadMore cursor={cursor} loading={loading} onLoad={loadMore} />
        </div>
        <aside className="detail-pane" aria-label="Event details">
          {chosen ? (
            <EventDetail event={chosen} onRefine={refine} />
          ) : (
            <p className="muted">Choose an event to see its fields and raw form.</p>
          )}
        </aside>
      </div>
    </section>
  );
}

function EventDetail({
  event,
  onRefine,
}: {
  event: EventRecord;
  onRefine: (field: string, value: unknown) => void;
}) {
  const fields = Object.entries(event.fields).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div className="event-detail">
      <h2 className="detail-title">{event.parser} event</h2>
      <dl className="facts">
        <dt>Event time</dt>
        <dd>{event.timestamp}</dd>
        <dt>Received</dt>
        <dd>{event.received_at}</dd>
        <dt>Source</dt>
        <dd>
          {event.source.kind}
          {event.source.name ? ` · ${event.source.name}` : ''}
          {event.source.peer ? ` · ${event.source.peer}` : ''}
        </dd>
        <dt>Format</dt>
        <dd>{event.format}</dd>
      </dl>
      <div className="event-forms">
        <section aria-labelledby="normalised-title">
          <h3 id="normalised-title">Normalised fields</h3>
          {fields.length === 0 ? (
            <p className="muted">No fields.</p>
          ) : (
            <table className="fields" aria-label="Normalised fields">
              <tbody>
                {fields.map(([key, value]) => (
                  <tr key={key}>
                    <th scope="row">{key}</th>
                    <td>
                      {(Array.isArray(value) ? value : [value]).map((item, index) =>
                        (item !== null && typeof item === 'object') || text(item) === '' ? (
                          <code key={index}>{JSON.stringify(item)}</code>
                        ) : (
                          <button
                            key={index}
                            type="button"
                            className="field-value"
                            onClick={() => onRefine(key, item)}
                            title={`Add ${key}:${text(item)} to the query`}
                            aria-label={`Add ${key}:${text(item)} to the query`}
                          >
                            {text(item)}
                          </button>
                        ),
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-labelledby="raw-title">
          <h3 id="raw-title">Raw, as received</h3>
          {typeof event.raw === 'string' ? (
            <pre className="raw" data-testid="raw-event">
              {event.raw}
            </pre>
          ) : (
            <div data-testid="raw-event">
              <JsonView value={event.raw} />
            </div>
          )}
        </section>
      </div>
    </div>
  );
}
