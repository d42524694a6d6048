//! `/maintenance`: scheduled maintenance windows (alerts are held during them).

import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorNotice, Field, Loading, PageHeader, SelectField, fieldError, isFieldError } from '../ui/components';
import { dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';

/** `datetime-local` text → ms, or NaN. */
export function localToMs(text: string): number {
  return text ? new Date(text).getTime() : Number.NaN;
}

export default function Maintenance() {
  const windows = useAsync((signal) => api.get('/api/maintenance-windows', { signal }), []);
  const monitors = useAsync((signal) => api.get('/api/monitors', { signal }), []);
  const [title, setTitle] = useState('');
  const [starts, setStarts] = useState('');
  const [ends, setEnds] = useState('');
  const [monitor, setMonitor] = useState('');
  const [error, setError] = useState<unknown>(null);
  const names = new Map((monitors.data ?? []).map((m) => [m.id, m.name]));

  async function add(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      await api.post('/api/maintenance-windows', {
        body: { title, starts_at: localToMs(starts), ends_at: localToMs(ends), monitor_id: monitor || null },
      });
      setTitle('');
      windows.reload();
    } catch (x) {
      setError(x);
    }
  }

  async function remove(id: string) {
    setError(null);
    try {
      await api.del('/api/maintenance-windows/{id}', { params: { id } });
      windows.reload();
    } catch (x) {
      setError(x);
    }
  }

  return (
    <section>
      <PageHeader title="Maintenance windows" />
      <p>During a window, failed checks do not open incidents or send alerts.</p>
      <ErrorNotice error={windows.error} />
      {windows.loading && !windows.data && <Loading />}
      {windows.data && windows.data.length === 0 && <p class="muted">No maintenance windows.</p>}
      {windows.data && windows.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Monitor</th>
                <th scope="col">Starts</th>
                <th scope="col">Ends</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {windows.data.map((w) => (
                <tr key={w.id}>
                  <td>{w.title}</td>
                  <td>{w.monitor_id ? (names.get(w.monitor_id) ?? 'a monitor') : 'All monitors'}</td>
                  <td>{dateTime(w.starts_at)}</td>
                  <td>{dateTime(w.ends_at)}</td>
                  <td>
                    <button type="button" class="button button-secondary" onClick={() => void remove(w.id)}>
                      Delete <span class="visually-hidden">{w.title}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Schedule a window</h2>
      <form class="inline-form" onSubmit={(e) => void add(e)} noValidate>
        {!isFieldError(error, ['title', 'starts_at', 'ends_at', 'monitor_id']) && <ErrorNotice error={error} />}
        <Field name="title" label="Title" required value={title} onInput={setTitle} error={fieldError(error, 'title')} />
        <Field name="starts_at" label="Starts" type="datetime-local" required value={starts} onInput={setStarts} error={fieldError(error, 'starts_at')} />
        <Field name="ends_at" label="Ends" type="datetime-local" required value={ends} onInput={setEnds} error={fieldError(error, 'ends_at')} />
        <SelectField
          name="monitor_id"
          label="Monitor"
          value={monitor}
          options={[['', 'All monitors'] as const, ...(monitors.data ?? []).map((m) => [m.id, m.name] as const)]}
          onChange={setMonitor}
          error={fieldError(error, 'monitor_id')}
        />
        <button class="button button-primary" type="submit">
          Schedule
        </button>
      </form>
    </section>
  );
}
