//! Search, state filter and sorting of the dashboard; the query lives in the URL.

import type { MonitorRow } from '../live/reducer';
import type { MonitorState } from '../live/events';

export type SortKey = 'name' | 'state' | 'latency' | 'checked';
export type StateFilter = MonitorState | 'all';

export interface DashboardQuery {
  q: string;
  state: StateFilter;
  sort: SortKey;
  desc: boolean;
  page: number;
}

const SORTS: readonly SortKey[] = ['name', 'state', 'latency', 'checked'];
const FILTERS: readonly StateFilter[] = ['all', 'up', 'down', 'degraded', 'pending', 'paused'];

/** Worst first when sorting by state. */
const STATE_ORDER: Record<MonitorState, number> = { down: 0, degraded: 1, pending: 2, up: 3, paused: 4 };

/** Reads the query from `location.search`; unknown values fall back to defaults. */
export function parseQuery(search: string): DashboardQuery {
  const p = new URLSearchParams(search);
  const sort = p.get('sort') as SortKey | null;
  const state = p.get('state') as StateFilter | null;
  const page = Number.parseInt(p.get('page') ?? '1', 10);
  return {
    q: p.get('q') ?? '',
    state: state && FILTERS.includes(state) ? state : 'all',
    sort: sort && SORTS.includes(sort) ? sort : 'state',
    desc: p.get('dir') === 'desc',
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

/** The query as a search string (defaults left out). */
export function formatQuery(q: DashboardQuery): string {
  const p = new URLSearchParams();
  if (q.q) p.set('q', q.q);
  if (q.state !== 'all') p.set('state', q.state);
  if (q.sort !== 'state') p.set('sort', q.sort);
  if (q.desc) p.set('dir', 'desc');
  if (q.page > 1) p.set('page', String(q.page));
  const s = p.toString();
  return s ? `?${s}` : '';
}

function compare(a: MonitorRow, b: MonitorRow, key: SortKey): number {
  switch (key) {
    case 'name':
      return a.name.localeCompare(b.name, undefined, { sensitivity: 'base', numeric: true });
    case 'state':
      return STATE_ORDER[a.state] - STATE_ORDER[b.state];
    case 'latency':
      // Unknown latency sorts last.
      return (a.lastLatencyMs ?? Number.MAX_SAFE_INTEGER) - (b.lastLatencyMs ?? Number.MAX_SAFE_INTEGER);
    case 'checked':
      return (b.lastCheckedAt ?? 0) - (a.lastCheckedAt ?? 0);
  }
}

/** Filters and sorts; ties break by name so the order is stable. */
export function selectRows(rows: Iterable<MonitorRow>, q: DashboardQuery): MonitorRow[] {
  const needle = q.q.trim().toLowerCase();
  const out: MonitorRow[] = [];
  for (const r of rows) {
    if (q.state !== 'all' && r.state !== q.state) continue;
    if (needle && !r.name.toLowerCase().includes(needle) && !r.target.toLowerCase().includes(needle)) continue;
    out.push(r);
  }
  out.sort((a, b) => {
    const c = compare(a, b, q.sort) || compare(a, b, 'name') || a.id.localeCompare(b.id);
    return q.desc ? -c : c;
  });
  return out;
}

/** Counts per state (for the filter buttons). */
export function countStates(rows: Iterable<MonitorRow>): Record<StateFilter, number> {
  const counts: Record<StateFilter, number> = { all: 0, up: 0, down: 0, degraded: 0, pending: 0, paused: 0 };
  for (const r of rows) {
    counts.all++;
    counts[r.state]++;
  }
  return counts;
}

/** One page of `rows` (1-based), clamped to the last page. */
export function pageOf<T>(rows: readonly T[], page: number, size: number): { items: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const p = Math.min(Math.max(1, page), pages);
  return { items: rows.slice((p - 1) * size, p * size), page: p, pages };
}
