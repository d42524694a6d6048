//! A list of incidents (monitor page and incidents page).

import type { ComponentChildren } from 'preact';
import type { Incident } from '../api/models';
import { dateTime, duration } from '../ui/format';

export function IncidentList({ items, names, action }: { items: readonly Incident[]; names?: ReadonlyMap<string, string>; action?: (i: Incident) => ComponentChildren }) {
  if (items.length === 0) return <p class="muted">No incidents.</p>;
  return (
    <ul class="incidents" aria-live="polite">
      {items.map((i) => (
        <li key={i.id} class={`incident incident-${i.resolved_at ? 'resolved' : 'open'}`} data-incident-id={i.id}>
          <strong>{i.resolved_at ? 'Resolved' : 'Ongoing'}</strong>
          {names && (
            <>
              {' · '}
              <a href={`/monitors/${encodeURIComponent(i.monitor_id)}`}>{names.get(i.monitor_id) ?? 'monitor'}</a>
            </>
          )}
          {' · '}started {dateTime(i.started_at)}
          {i.resolved_at ? ` · lasted ${duration(i.resolved_at - i.started_at)}` : ` · for ${duration(Date.now() - i.started_at)}`}
          {i.cause && <div class="incident-cause">{i.cause}</div>}
          {action && action(i)}
        </li>
      ))}
    </ul>
  );
}
