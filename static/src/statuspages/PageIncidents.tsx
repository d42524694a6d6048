//! `/status-pages/:id/incidents` and `/status-pages/:id/maintenance`: what
//! people wrote on the page, opening a new one, and (incidents) publishing a
//! monitor's automatic incident with one click.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { Incident } from '../api/models';
import type { PageProps } from '../app/pages';
import { subscribeEvents } from '../live/stream';
import { navigate } from '../router/history';
import { ErrorNotice, Loading } from '../ui/components';
import { dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';
import { EditorFrame, useCanWrite, usePage } from './Editor';
import { formError, isOpen, type NewIncident, type PublicIncident } from './forms';
import { IncidentForm, PublicIncidentList } from './IncidentParts';
import type { IncidentKind } from './labels';
import { pageOrder } from './order';
import { incidentPath } from './links';

export function KindTab({ id, kind }: { id: string; kind: IncidentKind }) {
  const page = usePage(id);
  const incidents = useAsync((signal) => api.get('/api/status-pages/{id}/incidents', { params: { id }, query: { kind, limit: 100 }, signal }), [id, kind]);
  const comps = useAsync((signal) => api.get('/api/status-pages/{id}/components', { params: { id }, signal }), [id]);
  const groups = useAsync((signal) => api.get('/api/status-pages/{id}/groups', { params: { id }, signal }), [id]);
  const canWrite = useCanWrite();
  const components = pageOrder(groups.data ?? [], comps.data ?? []);
  const names = new Map(components.map((c) => [c.id, c.name]));
  const list = incidents.data ?? [];
  const open = list.filter(isOpen);
  const past = list.filter((i) => !isOpen(i));
  const noun = kind === 'incident' ? 'incidents' : 'maintenance';

  async function create(body: NewIncident) {
    const created = await api.post('/api/status-pages/{id}/incidents', { params: { id }, body });
    navigate(incidentPath(id, created.id));
  }

  return (
    <EditorFrame page={page} tab={kind === 'incident' ? 'incidents' : 'maintenance'}>
      {kind === 'maintenance' && (
        <p>
          Announce planned work on the page. To also hold alerts while it runs, add a <a href="/maintenance">maintenance window</a>.
        </p>
      )}
      <ErrorNotice error={incidents.error ?? comps.error} />
      {incidents.loading && !incidents.data && <Loading />}
      {incidents.data && (
        <>
          <h2>{kind === 'incident' ? 'Ongoing' : 'Upcoming and in progress'}</h2>
          <PublicIncidentList pageId={id} items={open} components={names} empty={kind === 'incident' ? 'No ongoing incidents: the page says all is well.' : 'No maintenance scheduled.'} />
        </>
      )}
      {kind === 'incident' && canWrite && incidents.data && <PublishMonitorIncidents pageId={id} published={list} />}
      {canWrite && (
        <section class="card form-card" aria-labelledby="new-one">
          <h2 id="new-one" class="card-title">
            {kind === 'incident' ? 'Write an incident' : 'Schedule maintenance'}
          </h2>
          <IncidentForm kind={kind} components={components} onSubmit={create} />
        </section>
      )}
      {incidents.data && (
        <>
          <h2>{kind === 'incident' ? 'Resolved' : 'Completed'}</h2>
          <PublicIncidentList pageId={id} items={past} components={names} empty={`No past ${noun}.`} />
        </>
      )}
    </EditorFrame>
  );
}

/** Open monitor incidents not yet on this page, each with a Publish button. */
function PublishMonitorIncidents({ pageId, published }: { pageId: string; published: readonly PublicIncident[] }) {
  const incidents = useAsync((signal) => api.get('/api/incidents', { query: { limit: 100 }, signal }), []);
  const monitors = useAsync((signal) => api.get('/api/monitors', { signal }), []);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  // Outages appear (and leave) as they happen.
  useEffect(
    () =>
      subscribeEvents((ev) => {
        if (ev.type === 'incident.opened' || ev.type === 'incident.resolved') incidents.reload();
      }),
    [],
  );
  const done = new Set(published.map((p) => p.monitor_incident_id).filter(Boolean));
  const names = new Map((monitors.data ?? []).map((m) => [m.id, m.name]));
  const candidates = (incidents.data ?? []).filter((i: Incident) => !i.resolved_at && !done.has(i.id));
  if (!incidents.data || candidates.length === 0) return null;

  async function publish(i: Incident) {
    setError(null);
    setBusy(i.id);
    try {
      const created = await api.post('/api/status-pages/{id}/incidents/publish', { params: { id: pageId }, body: { monitor_incident_id: i.id } });
      navigate(incidentPath(pageId, created.id));
    } catch (x) {
      setError(x);
      setBusy(null);
    }
  }

  return (
    <section class="publish-block" aria-labelledby="publish-title">
      <h2 id="publish-title">Monitor incidents you can publish</h2>
      <p class="muted">Publishing tells your customers about an outage your monitors found. The page shows the affected components, never the monitor's address or error.</p>
      <ErrorNotice error={formError(error, [])} />
      <ul class="incidents">
        {candidates.map((i) => (
          <li key={i.id} class="incident incident-open publish-row" data-incident-id={i.id}>
            <span>
              <strong>{names.get(i.monitor_id) ?? 'A monitor'}</strong> is down since {dateTime(i.started_at)}
            </span>
            <button type="button" class="button button-primary" disabled={busy === i.id} onClick={() => void publish(i)}>
              Publish<span class="visually-hidden"> the incident of {names.get(i.monitor_id) ?? 'this monitor'}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export default function PageIncidents({ params }: PageProps) {
  return <KindTab id={params.id ?? ''} kind="incident" />;
}
