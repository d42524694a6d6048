//! `/platform/tenants`: every organisation, with suspend and resume (superusers).

import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorNotice, Loading, Notice, PageHeader } from '../ui/components';
import { dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';

export default function Tenants() {
  const [q, setQ] = useState('');
  const tenants = useAsync((signal) => api.get('/admin/api/tenants', { query: { q, limit: 200 }, signal }), [q]);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function toggle(id: string, name: string, suspend: boolean) {
    if (suspend && !window.confirm(`Suspend ${name}? Its pages and API stop working.`)) return;
    setError(null);
    setMessage(null);
    try {
      if (suspend) await api.post('/admin/api/tenants/{id}/suspend', { params: { id } });
      else await api.post('/admin/api/tenants/{id}/resume', { params: { id } });
      setMessage(`${name} is ${suspend ? 'suspended' : 'active again'}.`);
      tenants.reload();
    } catch (x) {
      setError(x);
    }
  }

  return (
    <section>
      <PageHeader title="Tenants" />
      <div class="field field-inline">
        <label for="tenant-search">Search</label>
        <input id="tenant-search" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      </div>
      {message && <Notice kind="success">{message}</Notice>}
      <ErrorNotice error={error} />
      <ErrorNotice error={tenants.error} />
      {tenants.loading && !tenants.data && <Loading />}
      {tenants.data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Slug</th>
                <th scope="col">Plan</th>
                <th scope="col" class="col-num">Members</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tenants.data.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{t.slug}</td>
                  <td>{t.plan}</td>
                  <td class="col-num">{t.members}</td>
                  <td>{t.status}</td>
                  <td>{dateTime(t.created_at)}</td>
                  <td>
                    <button type="button" class={`button ${t.status === 'suspended' ? 'button-secondary' : 'button-danger'}`} onClick={() => void toggle(t.id, t.name, t.status !== 'suspended')}>
                      {t.status === 'suspended' ? 'Resume' : 'Suspend'} <span class="visually-hidden">{t.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
