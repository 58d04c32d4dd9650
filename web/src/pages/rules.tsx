/**
 * Detection rules: list with filters and statistics (matches, false-positive share), enable or disable,
 * level override, a rule's YAML and versions, "test against a pasted event", YAML import; suppressions;
 * the detection policy (admins change it). Viewers read and test; they get no write controls.
 */
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { SEVERITIES } from '../../../src/core/vocabulary.js';
import {
  api,
  describeError,
  type DetectionPolicy,
  type Page,
  type Rule,
  type RuleDetail,
  type RuleKind,
  type RuleLevel,
  type RuleSubmission,
  type RuleTest,
  type Severity,
  type Suppression,
} from '../api.js';
import { ChoiceField, TextField } from '../components/fields.js';
import { GridHead, GridRows } from '../components/grid.js';
import { useToast } from '../components/toast.js';
import { Dialog, ErrorNotice, label, SeverityBadge, Time, LoadMore } from '../components/ui.js';
import { useLive } from '../live.js';
import { usePagedList } from '../paged-list.js';
import { canWrite, useUser } from '../session.js';

const LEVELS: RuleLevel[] = ['informational', 'low', 'medium', 'high', 'critical'];
const KINDS: RuleKind[] = ['sigma', 'correlation', 'filter', 'anomaly'];
const STATES = [
  { value: 'true', label: 'enabled' },
  { value: 'false', label: 'disabled' },
] as const;
const SORTS = [
  { value: 'title', label: 'Title' },
  { value: '-matches', label: 'Most matches' },
  { value: '-false_positive_share', label: 'Highest false-positive share' },
  { value: '-last_match_at', label: 'Matched most recently' },
  { value: '-occurrences', label: 'Most occurrences' },
  { value: '-updated_at', label: 'Recently changed' },
];
const PAGE_SIZE = 50;

interface Filters {
  enabled: '' | 'true' | 'false';
  level: RuleLevel | '';
  kind: RuleKind | '';
  q: string;
  sort: string;
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

const percent = (share: number) => `${Math.round(share * 100)} %`;

export function Rules() {
  const user = useUser();
  const writer = canWrite(user.role);
  const toast = useToast();
  const [filters, setFilters] = useState<Filters>({ enabled: '', level: '', kind: '', q: '', sort: 'title' });
  const query = useDebounced(filters, 250);
  const [selected, setSelected] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  const [version, setVersion] = useState(0);

  const apiQuery = useMemo(
    () => ({
      enabled: query.enabled || undefined,
      level: query.level || undefined,
      kind: query.kind || undefined,
      q: query.q.trim(),
      sort: query.sort,
      limit: PAGE_SIZE,
    }),
    [query],
  );

  const { items, setItems, cursor, loading, error, loadMore } = usePagedList<Rule>('/rules', apiQuery, {
    reload: version,
  });

  useLive((event) => {
    if (event.target.type === 'rule') setVersion((v) => v + 1);
  });

  const replace = useCallback((rule: Rule) => {
    setItems((list) => list.map((r) => (r.id === rule.id ? { ...r, ...rule } : r)));
  }, []);

  async function update(rule: Rule, body: { enabled?: boolean; level_override?: RuleLevel | null }) {
    try {
      const updated = await api<RuleDetail>(`/rules/${encodeURIComponent(rule.id)}`, {
        method: 'PATCH',
        body,
      });
      replace(updated);
      if (body.enabled !== undefined) toast(`${updated.title}: ${updated.enabled ? 'enabled' : 'disabled'}`);
      else toast(`${updated.title}: level ${updated.effective_level}`);
      if (selected === rule.id) setVersion((v) => v + 1);
    } catch (caught) {
      toast(describeError(caught), 'error');
    }
  }

  return (
    <section className="page rules-page" aria-labelledby="rules-title">
      <div className="page-head">
        <h1 id="rules-title">Detection rules</h1>
        {writer && (
          <button type="button" className="primary" onClick={() => setImporting(true)}>
            Import YAML…
          </button>
        )}
      </div>
      <form className="filters" role="search" aria-label="Filter rules" onSubmit={(e) => e.preventDefault()}>
        <ChoiceField
          id="rule-enabled"
          label="State"
          value={filters.enabled}
          onChange={(enabled) => setFilters((f) => ({ ...f, enabled }))}
          choices={STATES}
          any="any"
        />
        <ChoiceField
          id="rule-level"
          label="Level"
          value={filters.level}
          onChange={(level) => setFilters((f) => ({ ...f, level }))}
          choices={LEVELS}
          any="any"
        />
        <ChoiceField
          id="rule-kind"
          label="Kind"
          value={filters.kind}
          onChange={(kind) => setFilters((f) => ({ ...f, kind }))}
          choices={KINDS}
          any="any"
        />
        <TextField
          id="rule-q"
          label="Search"
          type="search"
          value={filters.q}
          onChange={(q) => setFilters((f) => ({ ...f, q }))}
          placeholder="title or id contains…"
          grow
        />
        <ChoiceField
          id="rule-sort"
          label="Sort"
          value={filters.sort}
          onChange={(sort) => setFilters((f) => ({ ...f, sort }))}
          choices={SORTS}
        />
      </form>
      <ErrorNotice error={error} />
      <div className="split">
        <div className="list-pane">
          <table className="grid rules-grid" aria-label="Rules" aria-busy={loading}>
            <GridHead
              columns={[
                { label: 'Enabled', className: 'col-toggle' },
                { label: 'Title' },
                { label: 'Kind', className: 'col-kind' },
                { label: 'Level', className: 'col-level' },
                { label: 'Matches', className: 'col-num' },
                { label: 'False pos.', className: 'col-num' },
                { label: 'Last match', className: 'col-time' },
              ]}
            />
            <tbody>
              <GridRows
                loading={loading}
                items={items}
                columns={7}
                empty="No rules match."
                row={(rule) => (
                  <tr
                    key={rule.id}
                    data-rule-id={rule.id}
                    className={rule.id === selected ? 'focused' : undefined}
                    onClick={() => setSelected(rule.id)}
                  >
                    <td className="col-toggle">
                      {writer ? (
                        <input
                          type="checkbox"
                          role="switch"
                          checked={rule.enabled}
                          aria-label={`Enabled: ${rule.title}`}
                          onClick={(e) => e.stopPropagation()}
                          onChange={() => void update(rule, { enabled: !rule.enabled })}
                        />
                      ) : (
                        <span>{rule.enabled ? 'on' : 'off'}</span>
                      )}
                    </td>
                    <td className="ellipsis">
                      <button type="button" className="link-button" onClick={() => setSelected(rule.id)}>
                        {rule.title}
                      </button>
                    </td>
                    <td className="col-kind">{rule.kind}</td>
                    <td className="col-level">
                      {rule.effective_level}
                      {rule.level_override ? ' *' : ''}
                    </td>
                    <td className="col-num">{rule.stats.alerts}</td>
                    <td className="col-num">
                      {rule.stats.closed ? percent(rule.stats.false_positive_share) : '—'}
                    </td>
                    <td className="col-time">
                      <Time at={rule.stats.last_match_at} />
                    </td>
                  </tr>
                )}
              />
            </tbody>
          </table>
          <LoadMore cursor={cursor} loading={loading} onLoad={loadMore} />
        </div>
        <aside className="detail-pane" aria-label="Rule details">
          {selected ? (
            <RuleDetailPanel
              id={selected}
              version={version}
              writer={writer}
              onLevel={(rule, level) => void update(rule, { level_override: level })}
            />
          ) : (
            <p className="muted">Choose a rule to see its YAML, versions and to test it on an event.</p>
          )}
        </aside>
      </div>
      <div className="rules-extra">
        <Suppressions writer={writer} />
        <Policy admin={user.role === 'admin'} />
      </div>
      <Dialog title="Import rules (YAML)" open={importing} onClose={() => setImporting(false)}>
        <ImportForm
          onCancel={() => setImporting(false)}
          onDone={() => {
            setImporting(false);
            setVersion((v) => v + 1);
          }}
        />
      </Dialog>
    </section>
  );
}

function RuleDetailPanel({
  id,
  version,
  writer,
  onLevel,
}: {
  id: string;
  version: number;
  writer: boolean;
  onLevel: (rule: Rule, level: RuleLevel | null) => void;
}) {
  const [rule, setRule] = useState<RuleDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const controller = new AbortController();
    api<RuleDetail>(`/rules/${encodeURIComponent(id)}`, { signal: controller.signal })
      .then((r) => {
        setRule(r);
        setError(null);
      })
      .catch((caught: unknown) => {
        if (!(caught instanceof DOMException)) setError(caught);
      });
    return () => controller.abort();
  }, [id, version]);
  if (error) return <ErrorNotice error={error} />;
  if (!rule || rule.id !== id) return <div className="skeleton-block tall" aria-hidden="true" />;
  return (
    <div className="rule-detail">
      <h2 className="detail-title">{rule.title}</h2>
      <dl className="facts">
        <dt>Id</dt>
        <dd>
          <code className="break">{rule.id}</code>
        </dd>
        <dt>Kind</dt>
        <dd>{rule.kind}</dd>
        <dt>Alert severity</dt>
        <dd>
          <SeverityBadge severity={rule.severity} />
        </dd>
        <dt>Level</dt>
        <dd>
          {writer ? (
            <>
              <label htmlFor="rule-level-override" className="visually-hidden">
                Level override
              </label>
              <select
                id="rule-level-override"
                value={rule.level_override ?? ''}
                onChange={(e) => onLevel(rule, (e.target.value || null) as RuleLevel | null)}
              >
                <option value="">as written ({rule.level})</option>
                {LEVELS.map((l) => (
                  <option key={l} value={l}>
                    {l}
                  </option>
                ))}
              </select>
            </>
          ) : (
            `${rule.effective_level}${rule.level_override ? ` (written: ${rule.level})` : ''}`
          )}
        </dd>
        <dt>Matches</dt>
        <dd>
          {rule.stats.alerts} alerts, {rule.stats.occurrences} occurrences
        </dd>
        <dt>False positives</dt>
        <dd>
          {rule.stats.false_positives} of {rule.stats.closed} closed
          {rule.stats.closed ? ` (${percent(rule.stats.false_positive_share)})` : ''}
        </dd>
        <dt>Version</dt>
        <dd>
          {rule.version} by {rule.updated_by}, <Time at={rule.updated_at} />
        </dd>
      </dl>
      <TestForm rule={rule} />
      <h3>YAML</h3>
      <pre className="yaml" tabIndex={0} aria-label="Rule YAML">
        {rule.yaml}
      </pre>
      <h3>Versions</h3>
      <ol className="versions" reversed>
        {rule.versions.map((v) => (
          <li key={v.version}>
            <details>
              <summary>
                v{v.version} · {v.title} · {v.updated_by} · <Time at={v.created_at} />
              </summary>
              <pre className="yaml">{v.yaml}</pre>
            </details>
          </li>
        ))}
      </ol>
    </div>
  );
}

const SAMPLE_EVENT =
  '{\n  "event": { "category": "authentication", "outcome": "failure" },\n  "user": { "name": "root" }\n}';

function TestForm({ rule }: { rule: RuleDetail }) {
  const [text, setText] = useState(SAMPLE_EVENT);
  const [result, setResult] = useState<RuleTest | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setResult(null);
    setError(null);
  }, [rule.id]);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setResult(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      setError(new Error(`The event is not valid JSON: ${(cause as Error).message}`));
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      setError(new Error('Paste one event as a JSON object.'));
      return;
    }
    setBusy(true);
    try {
      setResult(
        await api<RuleTest>(`/rules/${encodeURIComponent(rule.id)}/test`, {
          method: 'POST',
          body: { event: parsed },
        }),
      );
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="rule-test" onSubmit={submit} aria-labelledby="rule-test-title">
      <h3 id="rule-test-title">Test against a pasted event</h3>
      <label htmlFor="rule-test-event">Event (JSON: ECS fields or EVTX-JSON)</label>
      <textarea
        id="rule-test-event"
        rows={6}
        value={text}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
      />
      <div className="actions">
        <button type="submit" disabled={busy}>
          Test rule
        </button>
      </div>
      <ErrorNotice error={error} />
      {result && (
        <div
          className={`notice ${result.matched ? 'match' : ''}`}
          role="status"
          data-testid="rule-test-result"
        >
          <p>
            <strong>{result.matched ? 'Matches.' : 'No match.'}</strong>{' '}
            {result.detections.length > 0 &&
              `It would report ${result.detections.length} detection${result.detections.length === 1 ? '' : 's'}.`}
          </p>
          {result.explanation && <p className="muted">{result.explanation}</p>}
          {result.detections.map((d, index) => (
            <p key={index}>
              <SeverityBadge severity={d.severity} /> {d.title}
              {d.entity ? ` · ${d.entity}` : ''}
            </p>
          ))}
        </div>
      )}
    </form>
  );
}

function ImportForm({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const toast = useToast();
  const [yaml, setYaml] = useState('');
  const [answer, setAnswer] = useState<RuleSubmission | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api<RuleSubmission>('/rules', { method: 'POST', body: { yaml } });
      setAnswer(result);
      toast(`${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged`);
      if (result.failed === 0) onDone();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit}>
      <p className="muted">
        One or more Sigma rules (documents separated by <code>---</code>). A rule with a known id gets a new
        version.
      </p>
      <label htmlFor="import-yaml">YAML</label>
      <textarea
        id="import-yaml"
        rows={14}
        required
        spellCheck={false}
        value={yaml}
        onChange={(e) => setYaml(e.target.value)}
        autoFocus
      />
      <ErrorNotice error={error} />
      {answer && answer.failed > 0 && (
        <ul className="notice error">
          {answer.results
            .filter((r) => r.error)
            .map((r) => (
              <li key={r.document}>
                Document {r.document}: {r.error!.message}
              </li>
            ))}
        </ul>
      )}
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          Import
        </button>
      </div>
    </form>
  );
}

function Suppressions({ writer }: { writer: boolean }) {
  const toast = useToast();
  const [items, setItems] = useState<Suppression[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [field, setField] = useState('');
  const [value, setValue] = useState('');
  const [ruleId, setRuleId] = useState('');
  const [reason, setReason] = useState('');
  const [expires, setExpires] = useState('');
  const [formError, setFormError] = useState<unknown>(null);
  const load = useCallback(() => {
    api<Page<Suppression>>('/suppressions', { query: { limit: 100 } })
      .then((page) => setItems(page.items))
      .catch(setError);
  }, []);
  useEffect(load, [load]);

  async function create(event: FormEvent) {
    event.preventDefault();
    setFormError(null);
    try {
      await api<Suppression>('/suppressions', {
        method: 'POST',
        body: {
          field: field.trim(),
          value,
          reason: reason.trim(),
          ...(ruleId.trim() ? { rule_id: ruleId.trim() } : {}),
          expires_at: expires ? new Date(`${expires}T23:59:59Z`).toISOString() : null,
        },
      });
      toast('Suppression added');
      setField('');
      setValue('');
      setReason('');
      setRuleId('');
      setExpires('');
      load();
    } catch (caught) {
      setFormError(caught);
    }
  }

  async function remove(suppression: Suppression) {
    try {
      await api(`/suppressions/${suppression.id}`, { method: 'DELETE' });
      toast('Suppression lifted');
      load();
    } catch (caught) {
      toast(describeError(caught), 'error');
    }
  }

  return (
    <section className="card" aria-labelledby="suppressions-title">
      <h2 id="suppressions-title">Suppressions</h2>
      <p className="muted small">Detections whose field has this value raise no alert while in force.</p>
      <ErrorNotice error={error} />
      <table className="grid" aria-label="Suppressions" aria-busy={items === null}>
        <thead>
          <tr>
            <th scope="col">Field = value</th>
            <th scope="col">Rule</th>
            <th scope="col">Reason</th>
            <th scope="col" className="col-num">
              Hits
            </th>
            <th scope="col" className="col-time">
              Expires
            </th>
            {writer && (
              <th scope="col" className="col-action">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          <GridRows
            loading={items === null}
            items={items ?? []}
            columns={writer ? 6 : 5}
            empty="No suppressions in force."
            skeletonRows={2}
            row={(s) => (
              <tr key={s.id}>
                <td className="ellipsis">
                  <code>
                    {s.field}={s.value}
                  </code>
                </td>
                <td className="ellipsis">{s.rule_id ?? 'all rules'}</td>
                <td className="ellipsis" title={s.reason}>
                  {s.reason}
                </td>
                <td className="col-num">{s.hit_count}</td>
                <td className="col-time">{s.expires_at ? <Time at={s.expires_at} /> : 'never'}</td>
                {writer && (
                  <td className="col-action">
                    <button
                      type="button"
                      className="small danger"
                      onClick={() => void remove(s)}
                      aria-label={`Lift suppression ${s.field}=${s.value}`}
                    >
                      Lift
                    </button>
                  </td>
                )}
              </tr>
            )}
          />
        </tbody>
      </table>
      {writer && (
        <form onSubmit={create} aria-labelledby="new-suppression-title" className="stacked">
          <h3 id="new-suppression-title">Add a suppression</h3>
          <ErrorNotice error={formError} />
          <div className="row">
            <TextField
              id="sup-field"
              label="Field"
              value={field}
              onChange={setField}
              placeholder="user.name"
              required
            />
            <TextField id="sup-value" label="Value" value={value} onChange={setValue} required />
            <TextField id="sup-rule" label="Rule id (optional)" value={ruleId} onChange={setRuleId} />
          </div>
          <div className="row">
            <TextField id="sup-reason" label="Reason" value={reason} onChange={setReason} required grow />
            <TextField
              id="sup-expires"
              label="Expires (empty: never)"
              type="date"
              value={expires}
              onChange={setExpires}
            />
            <div className="field end">
              <button type="submit">Add suppression</button>
            </div>
          </div>
        </form>
      )}
    </section>
  );
}

function Policy({ admin }: { admin: boolean }) {
  const toast = useToast();
  const [policy, setPolicy] = useState<DetectionPolicy | null>(null);
  const [draft, setDraft] = useState<DetectionPolicy | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<DetectionPolicy>('/detection/policy')
      .then((p) => {
        setPolicy(p);
        setDraft(p);
      })
      .catch(setError);
  }, []);
  async function save(event: FormEvent) {
    event.preventDefault();
    if (!draft) return;
    setError(null);
    try {
      const saved = await api<DetectionPolicy>('/detection/policy', { method: 'PUT', body: draft });
      setPolicy(saved);
      setDraft(saved);
      toast('Detection policy saved');
    } catch (caught) {
      setError(caught);
    }
  }
  const minutes = (s: number) => `${Math.round(s / 60)} min`;
  return (
    <section className="card" aria-labelledby="policy-title">
      <h2 id="policy-title">Detection policy</h2>
      <ErrorNotice error={error} />
      {!policy || !draft ? (
        <div className="skeleton-block" aria-hidden="true" />
      ) : admin ? (
        <form onSubmit={save} className="stacked">
          <label htmlFor="policy-min">New alerts open or join an incident from severity</label>
          <select
            id="policy-min"
            value={draft.incident_min_severity ?? ''}
            onChange={(e) =>
              setDraft({ ...draft, incident_min_severity: (e.target.value || null) as Severity | null })
            }
          >
            <option value="">never (alerts only)</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s} and above
              </option>
            ))}
          </select>
          <label htmlFor="policy-group">
            Group alerts of the same entity into one incident within (seconds)
          </label>
          <input
            id="policy-group"
            type="number"
            min={0}
            max={2_592_000}
            value={draft.group_window_seconds}
            onChange={(e) => setDraft({ ...draft, group_window_seconds: Number(e.target.value) })}
          />
          <label htmlFor="policy-dedup">
            Count repeats of an alert instead of a new one within (seconds)
          </label>
          <input
            id="policy-dedup"
            type="number"
            min={0}
            max={2_592_000}
            value={draft.dedup_window_seconds}
            onChange={(e) => setDraft({ ...draft, dedup_window_seconds: Number(e.target.value) })}
          />
          <div className="actions">
            <button type="submit" className="primary">
              Save policy
            </button>
          </div>
        </form>
      ) : (
        <dl className="facts">
          <dt>Incidents from</dt>
          <dd>
            {policy.incident_min_severity ? `${label(policy.incident_min_severity)} and above` : 'never'}
          </dd>
          <dt>Grouping window</dt>
          <dd>{minutes(policy.group_window_seconds)}</dd>
          <dt>Dedup window</dt>
          <dd>{minutes(policy.dedup_window_seconds)}</dd>
        </dl>
      )}
    </section>
  );
}
