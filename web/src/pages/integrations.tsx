/**
 * Alert webhook integrations (admins): list, create one and copy its URL and token (shown once) with
 * a ready-to-paste Alertmanager receiver, rotate the token, disable.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, describeError, type Integration, type IntegrationType } from '../api.js';
import { CopyButton } from '../components/copy.js';
import { useToast } from '../components/toast.js';
import { Dialog, ErrorNotice, SkeletonRows, Time } from '../components/ui.js';

const TYPES: { value: IntegrationType; label: string }[] = [
  { value: 'alertmanager', label: 'Prometheus Alertmanager' },
  { value: 'suricata', label: 'Suricata (EVE JSON)' },
  { value: 'wazuh', label: 'Wazuh' },
  { value: 'generic', label: 'Generic JSON (with a mapping)' },
];

const SAMPLE_MAPPING = '{\n  "title": "/title",\n  "severity": "/severity",\n  "source": "/host"\n}';

/** Pure. The receiver to paste into alertmanager.yml. */
export function alertmanagerSnippet(url: string, token: string): string {
  return [
    'receivers:',
    '  - name: firebreak',
    '    webhook_configs:',
    `      - url: ${url}`,
    '        send_resolved: true',
    '        max_alerts: 0',
    '        http_config:',
    '          authorization:',
    '            type: Bearer',
    `            credentials: ${token}`,
  ].join('\n');
}

function curlExample(url: string, token: string): string {
  return `curl -X POST '${url}' \\\n  -H 'Authorization: Bearer ${token}' \\\n  -H 'Content-Type: application/json' \\\n  --data-binary @alert.json`;
}

export function Integrations() {
  const toast = useToast();
  const [items, setItems] = useState<Integration[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [issued, setIssued] = useState<Integration | null>(null);
  const [confirm, setConfirm] = useState<{ kind: 'rotate' | 'disable'; integration: Integration } | null>(
    null,
  );
  const load = useCallback(() => {
    api<{ items: Integration[] }>('/integrations')
      .then((r) => setItems(r.items))
      .catch(setError);
  }, []);
  useEffect(load, [load]);

  async function act() {
    if (!confirm) return;
    const { kind, integration } = confirm;
    try {
      if (kind === 'rotate') {
        setIssued(await api<Integration>(`/integrations/${integration.id}/rotate-token`, { method: 'POST' }));
        toast(`New token for ${integration.name}; the old one no longer works`);
      } else {
        await api(`/integrations/${integration.id}`, { method: 'DELETE' });
        if (issued?.id === integration.id) setIssued(null);
        toast(`${integration.name} disabled`);
      }
      load();
    } catch (caught) {
      toast(describeError(caught), 'error');
    } finally {
      setConfirm(null);
    }
  }

  return (
    <section className="page" aria-labelledby="integrations-title">
      <h1 id="integrations-title">Integrations</h1>
      <p className="muted">
        Senders (Alertmanager, Suricata, Wazuh, any JSON) post alerts to their own webhook URL with their own
        token. A token opens only its integration&apos;s webhook.
      </p>
      <ErrorNotice error={error} />
      <CreateIntegration
        onCreated={(integration) => {
          setIssued(integration);
          load();
        }}
      />
      {issued?.token && <Secret integration={issued} token={issued.token} onDone={() => setIssued(null)} />}
      <table className="grid" aria-label="Integrations" aria-busy={items === null}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col" className="col-source">
              Type
            </th>
            <th scope="col">Webhook URL</th>
            <th scope="col" className="col-source">
              Token
            </th>
            <th scope="col" className="col-time">
              Last used
            </th>
            <th scope="col" className="col-actions">
              State
            </th>
          </tr>
        </thead>
        <tbody>
          {items === null ? (
            <SkeletonRows rows={3} columns={6} />
          ) : items.length === 0 ? (
            <tr>
              <td colSpan={6} className="empty">
                No integrations yet.
              </td>
            </tr>
          ) : (
            items.map((integration) => (
              <tr key={integration.id} data-integration-id={integration.id}>
                <td className="ellipsis">{integration.name}</td>
                <td className="col-source">{integration.type}</td>
                <td className="ellipsis">
                  <code title={integration.url}>{integration.url}</code>
                </td>
                <td className="col-source">
                  <code>{integration.token_prefix}…</code>
                </td>
                <td className="col-time">
                  <Time at={integration.last_used_at} />
                </td>
                <td className="col-actions">
                  {integration.disabled_at ? (
                    'disabled'
                  ) : (
                    <>
                      <button
                        type="button"
                        className="small"
                        onClick={() => setConfirm({ kind: 'rotate', integration })}
                        aria-label={`Rotate token: ${integration.name}`}
                      >
                        Rotate token
                      </button>{' '}
                      <button
                        type="button"
                        className="small danger"
                        onClick={() => setConfirm({ kind: 'disable', integration })}
                        aria-label={`Disable ${integration.name}`}
                      >
                        Disable
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      <Dialog
        title={confirm?.kind === 'rotate' ? 'Rotate the token' : 'Disable the integration'}
        open={confirm !== null}
        onClose={() => setConfirm(null)}
      >
        {confirm && (
          <>
            <p>
              {confirm.kind === 'rotate'
                ? `${confirm.integration.name} gets a new token; the sender must be given it, the old one stops working now.`
                : `${confirm.integration.name} stops accepting posts. This cannot be undone.`}
            </p>
            <div className="actions">
              <button type="button" onClick={() => setConfirm(null)}>
                Cancel
              </button>
              <button
                type="button"
                className={confirm.kind === 'rotate' ? 'primary' : 'danger'}
                onClick={() => void act()}
              >
                {confirm.kind === 'rotate' ? 'Rotate token' : 'Disable'}
              </button>
            </div>
          </>
        )}
      </Dialog>
    </section>
  );
}

function CreateIntegration({ onCreated }: { onCreated: (integration: Integration) => void }) {
  const [type, setType] = useState<IntegrationType>('alertmanager');
  const [name, setName] = useState('');
  const [mapping, setMapping] = useState(SAMPLE_MAPPING);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    let parsedMapping: unknown;
    if (type === 'generic') {
      try {
        parsedMapping = JSON.parse(mapping);
      } catch (cause) {
        setError(new Error(`The mapping is not valid JSON: ${(cause as Error).message}`));
        return;
      }
    }
    setBusy(true);
    try {
      const created = await api<Integration>('/integrations', {
        method: 'POST',
        body: { type, name: name.trim(), ...(type === 'generic' ? { mapping: parsedMapping } : {}) },
      });
      setName('');
      onCreated(created);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="card inline-card" onSubmit={submit} aria-labelledby="new-integration-title">
      <h2 id="new-integration-title">Add an integration</h2>
      <ErrorNotice error={error} />
      <div className="row">
        <div className="field">
          <label htmlFor="integration-type">Type</label>
          <select
            id="integration-type"
            value={type}
            onChange={(e) => setType(e.target.value as IntegrationType)}
          >
            {TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="integration-name">Name</label>
          <input
            id="integration-name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. prometheus-prod"
          />
        </div>
        <div className="field end">
          <button type="submit" className="primary" disabled={busy}>
            Create
          </button>
        </div>
      </div>
      {type === 'generic' && (
        <>
          <label htmlFor="integration-mapping">
            Mapping (JSON Pointers into what the sender posts; see docs/integrations.md)
          </label>
          <textarea
            id="integration-mapping"
            rows={6}
            spellCheck={false}
            value={mapping}
            onChange={(e) => setMapping(e.target.value)}
          />
        </>
      )}
    </form>
  );
}

function Secret({
  integration,
  token,
  onDone,
}: {
  integration: Integration;
  token: string;
  onDone: () => void;
}) {
  const snippet =
    integration.type === 'alertmanager'
      ? alertmanagerSnippet(integration.url, token)
      : curlExample(integration.url, token);
  return (
    <div className="notice secret integration-secret" role="status" aria-labelledby="secret-title">
      <h2 id="secret-title">{integration.name}: copy the token now, it is not shown again</h2>
      <dl className="facts">
        <dt>Webhook URL</dt>
        <dd>
          <code className="break" id="integration-url">
            {integration.url}
          </code>{' '}
          <CopyButton text={integration.url} label="Copy the webhook URL" targetId="integration-url" />
        </dd>
        <dt>Token</dt>
        <dd>
          <code className="break" id="integration-token">
            {token}
          </code>{' '}
          <CopyButton text={token} label="Copy the token" targetId="integration-token" />
        </dd>
      </dl>
      <h3>{integration.type === 'alertmanager' ? 'alertmanager.yml' : 'Try it'}</h3>
      <pre className="snippet" id="integration-snippet" tabIndex={0} aria-label="Configuration snippet">
        {snippet}
      </pre>
      <div className="actions">
        <CopyButton
          text={snippet}
          label={integration.type === 'alertmanager' ? 'Copy the Alertmanager receiver' : 'Copy the example'}
          targetId="integration-snippet"
        />
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
