/** API tokens: everyone issues and revokes their own (admins see all); the secret is shown once. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, describeError, type ApiToken } from '../api.js';
import { useToast } from '../components/toast.js';
import { ErrorNotice, SkeletonRows, Time } from '../components/ui.js';
import { useUser } from '../session.js';

export function Tokens() {
  const me = useUser();
  const toast = useToast();
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const load = useCallback(() => {
    api<{ items: ApiToken[] }>('/tokens')
      .then((r) => setTokens(r.items))
      .catch(setError);
  }, []);
  useEffect(load, [load]);

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const issued = await api<ApiToken>('/tokens', {
        method: 'POST',
        body: {
          name: name.trim(),
          ...(expires ? { expires_at: new Date(`${expires}T23:59:59Z`).toISOString() } : {}),
        },
      });
      setSecret(issued.token ?? null);
      setName('');
      setExpires('');
      load();
    } catch (caught) {
      setError(caught);
    }
  }

  async function revoke(token: ApiToken) {
    try {
      await api(`/tokens/${token.id}`, { method: 'DELETE' });
      toast(`Revoked ${token.name}`);
      load();
    } catch (caught) {
      toast(describeError(caught), 'error');
    }
  }

  return (
    <section className="page" aria-labelledby="tokens-title">
      <h1 id="tokens-title">API tokens</h1>
      <p className="muted">
        A token acts with its owner's current role. Send it as <code>Authorization: Bearer fbk_…</code>.
      </p>
      <ErrorNotice error={error} />
      <form className="card inline-card" onSubmit={create} aria-labelledby="new-token-title">
        <h2 id="new-token-title">Issue a token</h2>
        <div className="row">
          <div className="field grow">
            <label htmlFor="token-name">Name</label>
            <input
              id="token-name"
              required
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="e.g. siem-forwarder"
            />
          </div>
          <div className="field">
            <label htmlFor="token-expires">Expires (optional)</label>
            <input
              id="token-expires"
              type="date"
              value={expires}
              onChange={(e) => setExpires(e.target.value)}
            />
          </div>
          <div className="field end">
            <button type="submit" className="primary">
              Issue token
            </button>
          </div>
        </div>
        {secret && (
          <div className="notice secret" role="status">
            <p>Copy this token now; it is not shown again.</p>
            <code className="break" id="new-token-secret">
              {secret}
            </code>{' '}
            <button
              type="button"
              className="small"
              onClick={() =>
                void navigator.clipboard?.writeText(secret).then(
                  () => toast('Copied'),
                  () => toast('Copy failed', 'error'),
                )
              }
            >
              Copy
            </button>
          </div>
        )}
      </form>
      <table className="grid" aria-label="API tokens" aria-busy={tokens === null}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            {me.role === 'admin' && <th scope="col">Owner</th>}
            <th scope="col" className="col-time">
              Created
            </th>
            <th scope="col" className="col-time">
              Last used
            </th>
            <th scope="col" className="col-time">
              Expires
            </th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {tokens === null ? (
            <SkeletonRows rows={3} columns={me.role === 'admin' ? 7 : 6} />
          ) : tokens.length === 0 ? (
            <tr>
              <td colSpan={7} className="empty">
                No tokens.
              </td>
            </tr>
          ) : (
            tokens.map((token) => (
              <tr key={token.id}>
                <td className="ellipsis">{token.name}</td>
                <td>
                  <code>{token.prefix}…</code>
                </td>
                {me.role === 'admin' && (
                  <td>{token.user_id === me.id ? 'you' : <code>{token.user_id.slice(0, 8)}</code>}</td>
                )}
                <td className="col-time">
                  <Time at={token.created_at} />
                </td>
                <td className="col-time">
                  <Time at={token.last_used_at} />
                </td>
                <td className="col-time">
                  <Time at={token.expires_at} />
                </td>
                <td>
                  {token.revoked_at ? (
                    'revoked'
                  ) : (
                    <button type="button" className="small danger" onClick={() => void revoke(token)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </section>
  );
}
