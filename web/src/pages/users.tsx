/** Admins: the organisation's users; create one, change a role, disable or enable. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ROLES } from '../../../src/core/vocabulary.js';
import { api, describeError, type Role, type User } from '../api.js';
import { useToast } from '../components/toast.js';
import { ErrorNotice, SkeletonRows, Time } from '../components/ui.js';
import { useUser } from '../session.js';

export function Users() {
  const me = useUser();
  const toast = useToast();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    api<{ items: User[] }>('/users')
      .then((r) => setUsers(r.items))
      .catch(setError);
  }, []);
  useEffect(load, [load]);

  async function patch(user: User, body: Partial<{ role: Role; disabled: boolean }>) {
    try {
      await api(`/users/${user.id}`, { method: 'PATCH', body });
      toast(`${user.email} updated`);
      load();
    } catch (caught) {
      toast(describeError(caught), 'error');
    }
  }

  return (
    <section className="page" aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <ErrorNotice error={error} />
      <CreateUser onCreated={load} />
      <table className="grid" aria-label="Users" aria-busy={users === null}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">State</th>
            <th scope="col" className="col-time">
              Created
            </th>
          </tr>
        </thead>
        <tbody>
          {users === null ? (
            <SkeletonRows rows={4} columns={5} />
          ) : (
            users.map((user) => (
              <tr key={user.id}>
                <td className="ellipsis">{user.name}</td>
                <td className="ellipsis">{user.email}</td>
                <td>
                  <label className="visually-hidden" htmlFor={`role-${user.id}`}>
                    Role of {user.email}
                  </label>
                  <select
                    id={`role-${user.id}`}
                    value={user.role}
                    disabled={user.id === me.id}
                    onChange={(e) => void patch(user, { role: e.target.value as Role })}
                  >
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                </td>
                <td>
                  {user.id === me.id ? (
                    'you'
                  ) : (
                    <button
                      type="button"
                      className="small"
                      onClick={() => void patch(user, { disabled: !user.disabled })}
                    >
                      {user.disabled ? 'Enable' : 'Disable'}
                    </button>
                  )}
                </td>
                <td className="col-time">
                  <Time at={user.created_at} />
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </section>
  );
}

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const toast = useToast();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('responder');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      await api('/users', {
        method: 'POST',
        body: {
          email: email.trim(),
          role,
          ...(name.trim() ? { name: name.trim() } : {}),
          ...(password ? { password } : {}),
        },
      });
      toast(`Created ${email}`);
      setEmail('');
      setName('');
      setPassword('');
      onCreated();
    } catch (caught) {
      setError(caught);
    }
  }
  return (
    <form className="card inline-card" onSubmit={submit} aria-labelledby="new-user-title">
      <h2 id="new-user-title">Add a user</h2>
      <ErrorNotice error={error} />
      <div className="row">
        <div className="field">
          <label htmlFor="user-email">Email</label>
          <input
            id="user-email"
            type="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="user-name">Name</label>
          <input id="user-name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="user-role">Role</label>
          <select id="user-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="user-password">Password (12+ characters)</label>
          <input
            id="user-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <div className="field end">
          <button type="submit" className="primary">
            Create user
          </button>
        </div>
      </div>
    </form>
  );
}
