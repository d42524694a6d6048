//! `/alerts/deliveries`: what was sent where, and what failed.

import { api } from '../api';
import { ErrorNotice, Loading, PageHeader } from '../ui/components';
import { dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';

export default function Deliveries() {
  const log = useAsync((signal) => api.get('/api/alert-deliveries', { signal }), []);
  const channels = useAsync((signal) => api.get('/api/alert-channels', { signal }), []);
  const names = new Map((channels.data ?? []).map((c) => [c.id, c.name]));
  return (
    <section>
      <PageHeader title="Delivery log">
        <button type="button" class="button button-secondary" onClick={log.reload}>
          Refresh
        </button>
      </PageHeader>
      <ErrorNotice error={log.error} />
      {log.loading && !log.data && <Loading />}
      {log.data && log.data.length === 0 && <p class="muted">Nothing was sent yet.</p>}
      {log.data && log.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Channel</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" class="col-num">Attempts</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {log.data.map((d) => (
                <tr key={d.id}>
                  <td>{dateTime(d.sent_at ?? d.created_at)}</td>
                  <td>{names.get(d.channel_id) ?? 'deleted channel'}</td>
                  <td>{d.event}</td>
                  <td>{d.status}</td>
                  <td class="col-num">{d.attempts}</td>
                  <td>{d.last_error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
