//! `/monitors/new`.

import { useState } from 'preact/hooks';
import { api } from '../api';
import type { Monitor } from '../api/models';
import { navigate } from '../router/history';
import { PageHeader } from '../ui/components';
import { MonitorForm } from './MonitorForm';
import { defaults } from './form';

export default function MonitorNew() {
  const [created, setCreated] = useState<Monitor | null>(null);
  if (created?.heartbeat_url) {
    return (
      <section>
        <PageHeader title="Monitor created" />
        <div class="notice notice-success" role="status">
          Your heartbeat monitor is ready. Have your job call this URL; it is shown only now, so copy it.
        </div>
        <p>
          <label for="hb-url">Heartbeat URL</label>
          <input id="hb-url" class="secret" readOnly value={created.heartbeat_url} />
        </p>
        <a class="button button-primary" href={`/monitors/${encodeURIComponent(created.id)}`}>
          Open the monitor
        </a>
      </section>
    );
  }
  return (
    <section>
      <PageHeader title="New monitor" />
      <MonitorForm
        initial={defaults()}
        editing={false}
        submitLabel="Create monitor"
        onSubmit={(body) => api.post('/api/monitors', { body })}
        onDone={(m) => (m.heartbeat_url ? setCreated(m) : navigate(`/monitors/${encodeURIComponent(m.id)}`))}
      />
    </section>
  );
}
