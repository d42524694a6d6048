//! `/settings/members`: members with their roles, and invitations.

import { useState } from 'preact/hooks';
import { api } from '../api';
import type { Role } from '../api/models';
import { useMe } from '../app/session';
import { ErrorNotice, Field, Loading, Notice, PageHeader, SelectField, fieldError, isFieldError } from '../ui/components';
import { dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';

const ROLES: readonly (readonly [Role, string])[] = [
  ['viewer', 'Viewer (read only)'],
  ['member', 'Member (manage monitors)'],
  ['admin', 'Admin (manage people and settings)'],
  ['owner', 'Owner'],
];

export default function Members() {
  const me = useMe();
  const isAdmin = me?.organization?.role === 'admin' || me?.organization?.role === 'owner';
  const members = useAsync((signal) => api.get('/api/members', { signal }), []);
  const invites = useAsync((signal) => (isAdmin ? api.get('/api/invitations', { signal }) : Promise.resolve([])), [isAdmin]);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function run(action: () => Promise<unknown>, done: string) {
    setError(null);
    setMessage(null);
    try {
      await action();
      setMessage(done);
      members.reload();
      invites.reload();
    } catch (x) {
      setError(x);
    }
  }

  return (
    <section>
      <PageHeader title="Members" />
      {message && <Notice kind="success">{message}</Notice>}
      {!isFieldError(error, ['email', 'role']) && <ErrorNotice error={error} />}
      <ErrorNotice error={members.error} />
      {members.loading && !members.data && <Loading />}
      {members.data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Joined</th>
                {isAdmin && (
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {members.data.map((m) => (
                <tr key={m.user_id}>
                  <td>{m.email}</td>
                  <td>
                    {isAdmin && m.user_id !== me?.user.id ? (
                      <select
                        aria-label={`Role of ${m.email}`}
                        value={m.role}
                        onChange={(e) => {
                          const r = e.currentTarget.value as Role;
                          void run(() => api.patch('/api/members/{user_id}', { params: { user_id: m.user_id }, body: { role: r } }), `${m.email} is now ${r}.`);
                        }}
                      >
                        {ROLES.map(([v, t]) => (
                          <option key={v} value={v}>
                            {t}
                          </option>
                        ))}
                      </select>
                    ) : (
                      m.role
                    )}
                  </td>
                  <td>{dateTime(m.joined_at)}</td>
                  {isAdmin && (
                    <td>
                      {m.user_id !== me?.user.id && (
                        <button
                          type="button"
                          class="button button-danger"
                          onClick={() => {
                            if (window.confirm(`Remove ${m.email} from the organisation?`))
                              void run(() => api.del('/api/members/{user_id}', { params: { user_id: m.user_id } }), `${m.email} was removed.`);
                          }}
                        >
                          Remove <span class="visually-hidden">{m.email}</span>
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {isAdmin && (
        <>
          <h2>Invite someone</h2>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => {
                await api.post('/api/invitations', { body: { email, role } });
                setEmail('');
              }, `Invitation sent to ${email}.`);
            }}
            noValidate
          >
            <Field name="email" label="Email" type="email" required value={email} onInput={setEmail} error={fieldError(error, 'email')} />
            <SelectField name="role" label="Role" value={role} options={ROLES} onChange={(r) => setRole(r as Role)} error={fieldError(error, 'role')} />
            <button class="button button-primary" type="submit">
              Send invitation
            </button>
          </form>
          <h2>Pending invitations</h2>
          <ErrorNotice error={invites.error} />
          {(invites.data ?? []).filter((i) => !i.accepted_at).length === 0 && <p class="muted">No pending invitations.</p>}
          <ul class="plain-list">
            {(invites.data ?? [])
              .filter((i) => !i.accepted_at)
              .map((i) => (
                <li key={i.id}>
                  {i.email} as {i.role}, expires {dateTime(i.expires_at)}{' '}
                  <button type="button" class="button button-secondary" onClick={() => void run(() => api.del('/api/invitations/{id}', { params: { id: i.id } }), `Invitation for ${i.email} revoked.`)}>
                    Revoke <span class="visually-hidden">invitation for {i.email}</span>
                  </button>
                </li>
              ))}
          </ul>
        </>
      )}
    </section>
  );
}
