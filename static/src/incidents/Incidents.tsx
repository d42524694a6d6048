//! `/incidents`: every incident of the organisation, live.

import { useEffect, useMemo } from 'preact/hooks';
import { api } from '../api';
import { subscribeEvents } from '../live/stream';
import { IncidentList } from '../monitors/IncidentList';
import { ErrorNotice, Loading, PageHeader } from '../ui/components';
import { useAsync } from '../ui/useAsync';

export default function Incidents() {
  const incidents = useAsync((signal) => api.get('/api/incidents', { query: { limit: 100 }, signal }), []);
  const monitors = useAsync((signal) => api.get('/api/monitors', { signal }), []);
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
  return (
    <section>
      <PageHeader title="Incidents" />
      <ErrorNotice error={incidents.error} />
      {incidents.loading && !incidents.data && <Loading />}
      {incidents.data && (
        <>
          <h2>Ongoing</h2>
          <IncidentList items={open} names={names} />
          <h2>Resolved</h2>
          <IncidentList items={past} names={names} />
        </>
      )}
    </section>
  );
}
