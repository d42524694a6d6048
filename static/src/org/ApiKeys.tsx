//! `/settings/api-keys`: keys for scripts and CI; the secret is shown once.

import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorNotice, Field, Loading, PageHeader, SelectField, fieldError, isFieldError } from '../ui/components';
import { ago, dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';

export default function ApiKeys() {
  const keys = useAsync((signal) => api.get('/api/api-keys', { signal }), []);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'read' | 'write'>('read');
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function create(e: Event) {
    e.preventDefault();
    setError(null);
    setSecret(null);
    try {
      const k = await api.post('/api/api-keys', { body: { name, scope } });
      setSecret(k.secret);
      setName('');
      keys.reload();
    } catch (x) {
      setError(x);
    }
  }

  async function revoke(id: string, keyName: string) {
    if (!window.confirm(`Revoke the key "${keyName}"? Scripts using it stop working.`)) return;
    setError(null);
    try {
      await api.del('/api/api-keys/{id}', { params: { id } });
      keys.reload();
    } catch (x) {
      setError(x);
    }
  }

  return (
    <section>
      <PageHeader title="API keys" />
      <p>
        Send a key as <code>Authorization: Bearer &lt;key&gt;</code>. The API is described at <a href="/api/openapi.json">/api/openapi.json</a>.
      </p>
      {secret && (
        <div class="notice notice-warning" role="status">
          <label for="new-key-secret">Your new key (copy it now: it is never shown again)</label>
          <input id="new-key-secret" class="secret" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
        </div>
      )}
      {!isFieldError(error, ['name', 'scope']) && <ErrorNotice error={error} />}
      <ErrorNotice error={keys.error} />
      {keys.loading && !keys.data && <Loading />}
      {keys.data && keys.data.length === 0 && <p class="muted">No API keys.</p>}
      {keys.data && keys.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Scope</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.scope}</td>
                  <td>{dateTime(k.created_at)}</td>
                  <td>{k.revoked_at ? `revoked ${dateTime(k.revoked_at)}` : ago(k.last_used_at)}</td>
                  <td>
                    {!k.revoked_at && (
                      <button type="button" class="button button-danger" onClick={() => void revoke(k.id, k.name)}>
                        Revoke <span class="visually-hidden">{k.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Create a key</h2>
      <form class="inline-form" onSubmit={(e) => void create(e)} noValidate>
        <Field name="name" label="Key name" required value={name} onInput={setName} error={fieldError(error, 'name')} />
        <SelectField
          name="scope"
          label="Scope"
          value={scope}
          options={[
            ['read', 'Read only'],
            ['write', 'Read and write'],
          ]}
          onChange={(s) => setScope(s === 'write' ? 'write' : 'read')}
          error={fieldError(error, 'scope')}
        />
        <button class="button button-primary" type="submit">
          Create key
        </button>
      </form>
    </section>
  );
}
