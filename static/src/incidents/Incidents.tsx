//! `/incidents`: every incident of the organisation, live; an ongoing one can
//! be published on a status page with one click.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import type { Incident } from '../api/models';
import { useCanWrite } from '../statuspages/Editor';
import { subscribeEvents } from '../live/stream';
import { IncidentList } from '../monitors/IncidentList';
import { navigate } from '../router/history';
import { formError } from '../statuspages/forms';
import { incidentPath } from '../statuspages/links';
import { ErrorNotice, Loading, PageHeader, SelectField } from '../ui/components';
import { useAsync } from '../ui/useAsync';

export default function Incidents() {
  const incidents = useAsync((signal) => api.get('/api/incidents', { query: { limit: 100 }, signal }), []);
  const monitors = useAsync((signal) => api.get('/api/monitors', { signal }), []);
  const pages = useAsync((signal) => api.get('/api/status-pages', { signal }), []);
  const canWrite = useCanWrite();
  const [pageId, setPageId] = useState('');
  const [publishError, setPublishError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const names = useMemo(() => new Map((monitors.data ?? []).map((m) => [m.id, m.name])), [monitors.data]);
  useEffect(
    () =>
      subscribeEvents((ev) => {
        if (ev.type === 'incident.opened' || ev.type === 'incident.resolved') incidents.reload();
      }),
    [],
  );
  const open = (incidents.data ?? []).filter((i) => !i.resolved_at);
  const past = (incidents.data ?? []).filter((i) => i.resolved_at);
  const statusPages = pages.data ?? [];
  const target = statusPages.find((p) => p.id === pageId) ?? statusPages[0];

  async function publish(i: Incident) {
    if (!target) return;
    setPublishError(null);
    setBusy(i.id);
    try {
      const created = await api.post('/api/status-pages/{id}/incidents/publish', { params: { id: target.id }, body: { monitor_incident_id: i.id } });
      navigate(incidentPath(target.id, created.id));
    } catch (x) {
      setPublishError(x);
      setBusy(null);
    }
  }

  const action =
    canWrite && target
      ? (i: Incident) => (
          <div class="incident-action">
            <button type="button" class="button button-secondary" disabled={busy === i.id} onClick={() => void publish(i)}>
              Publish on {statusPages.length > 1 ? 'the status page' : target.title}
              <span class="visually-hidden"> (incident of {names.get(i.monitor_id) ?? 'a monitor'})</span>
            </button>
          </div>
        )
      : undefined;

  return (
    <section>
      <PageHeader title="Incidents" />
      <ErrorNotice error={incidents.error} />
      <ErrorNotice error={formError(publishError, [])} />
      {incidents.loading && !incidents.data && <Loading />}
      {incidents.data && (
        <>
          <h2>Ongoing</h2>
          {action && open.length > 0 && statusPages.length > 1 && (
            <SelectField name="publish-page" label="Publish on" value={target?.id ?? ''} options={statusPages.map((p) => [p.id, p.title] as const)} onChange={setPageId} />
          )}
          <IncidentList items={open} names={names} action={action} />
          <h2>Resolved</h2>
          <IncidentList items={past} names={names} />
        </>
      )}
    </section>
  );
}
