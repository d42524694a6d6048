//! `/platform/audit-log`: what happened on the platform, newest first (superusers).

import { api } from '../api';
import { ErrorNotice, Loading, PageHeader } from '../ui/components';
import { dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';

export default function AuditLog() {
  const log = useAsync((signal) => api.get('/admin/api/audit-log', { query: { limit: 200 }, signal }), []);
  return (
    <section>
      <PageHeader title="Audit log" />
      <ErrorNotice error={log.error} />
      {log.loading && !log.data && <Loading />}
      {log.data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Tenant</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">IP</th>
              </tr>
            </thead>
            <tbody>
              {log.data.map((e) => (
                <tr key={e.id}>
                  <td>{dateTime(e.created_at)}</td>
                  <td>{e.action}</td>
                  <td>{e.tenant_id ?? '—'}</td>
                  <td>{e.actor_id ?? '—'}</td>
                  <td>{e.target ?? '—'}</td>
                  <td>{e.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
