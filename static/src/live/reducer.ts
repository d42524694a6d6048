//! The dashboard's monitor table and how each live event changes it. Pure: the
//! same events give the same table, and an event only replaces the row it names
//! (so unchanged rows keep their identity and do not re-render).

import type { LiveEvent, MonitorState } from './events';

/** What the dashboard shows of one monitor. */
export interface MonitorRow {
  id: string;
  name: string;
  kind: string;
  state: MonitorState;
  target: string;
  lastCheckedAt: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  /** Latest latencies, oldest first (null = failed check), for the sparkline. */
  recent: (number | null)[];
  /** Open incident id, if any. */
  openIncident: string | null;
}

/** Monitors by id, in load order. */
export type MonitorTable = ReadonlyMap<string, MonitorRow>;

/** Points kept for a sparkline. */
export const SPARK_POINTS = 30;

function update(table: MonitorTable, id: string, change: (row: MonitorRow) => MonitorRow): MonitorTable {
  const row = table.get(id);
  if (!row) return table;
  const next = change(row);
  if (next === row) return table;
  const copy = new Map(table);
  copy.set(id, next);
  return copy;
}

/** Pushes a point, keeping the last SPARK_POINTS. */
export function pushPoint(points: readonly (number | null)[], value: number | null): (number | null)[] {
  const next = points.length >= SPARK_POINTS ? points.slice(points.length - SPARK_POINTS + 1) : points.slice();
  next.push(value);
  return next;
}

/** Applies one live event. Events for monitors not in the table are ignored
 * (the caller refetches the list on `monitor.state` for unknown ids). */
export function applyEvent(table: MonitorTable, ev: LiveEvent): MonitorTable {
  switch (ev.type) {
    case 'monitor.state':
      return update(table, ev.monitor_id, (row) => (row.state === ev.state ? row : { ...row, state: ev.state }));
    case 'monitor.check':
      return update(table, ev.monitor_id, (row) => {
        // A replayed (older) check must not overwrite a newer one.
        if (row.lastCheckedAt !== null && ev.at < row.lastCheckedAt) return row;
        const state = (['pending', 'up', 'degraded', 'down', 'paused'] as const).find((s) => s === ev.state) ?? row.state;
        return {
          ...row,
          state,
          lastCheckedAt: ev.at,
          lastLatencyMs: ev.latency_ms,
          lastError: ev.ok ? null : ev.error,
          recent: pushPoint(row.recent, ev.ok ? ev.latency_ms : null),
        };
      });
    case 'incident.opened':
      return update(table, ev.monitor_id, (row) =>
        row.openIncident === ev.incident_id ? row : { ...row, openIncident: ev.incident_id });
    case 'incident.resolved':
      return update(table, ev.monitor_id, (row) =>
        row.openIncident === ev.incident_id ? { ...row, openIncident: null } : row);
  }
}
