//! The dashboard: every monitor with state, uptime, latency and last check;
//! search, state filter and sort live in the URL; pages of 50 rows keep it
//! fast at 1,000 monitors; live events update rows in place.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { Monitor, Uptime } from '../api/models';
import { monitorTarget } from '../api/models';
import type { PageProps } from '../app/pages';
import { applyEvent, pushPoint, type MonitorRow, type MonitorTable } from '../live/reducer';
import type { LiveEvent, MonitorState } from '../live/events';
import { subscribeEvents } from '../live/stream';
import { navigate } from '../router/history';
import { ErrorNotice, Loading, PageHeader, StateBadge } from '../ui/components';
import { ago, ms, percent } from '../ui/format';
import { countStates, formatQuery, pageOf, parseQuery, selectRows, type DashboardQuery, type SortKey, type StateFilter } from './query';
import { Sparkline } from './Sparkline';
import { subscribeSummaries, want } from './summaries';

const PAGE_SIZE = 50;

/** A row of the table from the API's monitor. */
export function rowOf(m: Monitor): MonitorRow {
  return {
    id: m.id,
    name: m.name,
    kind: m.kind,
    state: (m.paused ? 'paused' : m.state) as MonitorState,
    target: monitorTarget(m),
    lastCheckedAt: m.last_checked_at ?? null,
    lastLatencyMs: m.last_latency_ms ?? null,
    lastError: m.last_error ?? null,
    recent: [],
    openIncident: null,
  };
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(t);
  }, [everyMs]);
  return now;
}

const FILTERS: readonly (readonly [StateFilter, string])[] = [
  ['all', 'All'],
  ['down', 'Down'],
  ['degraded', 'Degraded'],
  ['up', 'Up'],
  ['pending', 'Pending'],
  ['paused', 'Paused'],
];
const SORTS: readonly (readonly [SortKey, string])[] = [
  ['state', 'State (worst first)'],
  ['name', 'Name'],
  ['latency', 'Latency'],
  ['checked', 'Last check'],
];

export default function Dashboard({ query }: PageProps) {
  const q = parseQuery(query.toString() ? `?${query.toString()}` : '');
  const [table, setTable] = useState<MonitorTable | null>(null);
  const [uptimes, setUptimes] = useState<ReadonlyMap<string, Uptime | null>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const [reloadTick, setReloadTick] = useState(0);
  const now = useNow(10_000);
  const pendingEvents = useRef<LiveEvent[]>([]);
  const frame = useRef<number | null>(null);

  // Initial list (and a reload when a monitor appears that the table lacks).
  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get('/api/monitors', { signal: ctrl.signal })
      .then((list) => {
        setTable((old) => {
          const next = new Map<string, MonitorRow>();
          for (const m of list) {
            const row = rowOf(m);
            const prev = old?.get(m.id);
            next.set(m.id, prev ? { ...row, recent: prev.recent, openIncident: prev.openIncident } : row);
          }
          return next;
        });
        setError(null);
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setError(e);
      });
    return () => ctrl.abort();
  }, [reloadTick]);

  // Live events, applied once per animation frame in a batch.
  useEffect(
    () =>
      subscribeEvents((ev) => {
        pendingEvents.current.push(ev);
        if (frame.current !== null) return;
        frame.current = window.requestAnimationFrame(() => {
          frame.current = null;
          const batch = pendingEvents.current;
          pendingEvents.current = [];
          setTable((t) => {
            if (!t) return t;
            let next = t;
            for (const e of batch) {
              if (e.type === 'monitor.state' && !next.has(e.monitor_id)) setReloadTick((n) => n + 1);
              next = applyEvent(next, e);
            }
            return next;
          });
        });
      }),
    [],
  );

  // Uptime and sparkline history of rows that come on screen.
  useEffect(
    () =>
      subscribeSummaries((id, s) => {
        setUptimes((u) => new Map(u).set(id, s.uptime));
        setTable((t) => {
          const row = t?.get(id);
          if (!t || !row) return t;
          let recent = s.recent;
          for (const p of row.recent) recent = pushPoint(recent, p);
          return new Map(t).set(id, { ...row, recent });
        });
      }),
    [],
  );

  const rows = useMemo(() => (table ? selectRows(table.values(), q) : []), [table, q.q, q.state, q.sort, q.desc]);
  const counts = useMemo(() => countStates(table?.values() ?? []), [table]);
  const page = pageOf(rows, q.page, PAGE_SIZE);
  const visibleIds = page.items.map((r) => r.id).join(',');
  useEffect(() => {
    if (visibleIds) want(visibleIds.split(','));
  }, [visibleIds]);

  function setQuery(change: Partial<DashboardQuery>) {
    const next = { ...q, page: 1, ...change };
    navigate(`/monitors${formatQuery(next)}`, { replace: true });
  }

  return (
    <section>
      <PageHeader title="Monitors">
        <a class="button button-primary" href="/monitors/new">
          New monitor
        </a>
      </PageHeader>
      <ErrorNotice error={error} />
      <div class="toolbar">
        <div class="field field-inline">
          <label for="monitor-search">Search</label>
          <input id="monitor-search" type="search" value={q.q} placeholder="Name or target" onInput={(e) => setQuery({ q: e.currentTarget.value })} />
        </div>
        <div class="field field-inline">
          <label for="monitor-sort">Sort by</label>
          <select id="monitor-sort" value={q.sort} onChange={(e) => setQuery({ sort: e.currentTarget.value as SortKey })}>
            {SORTS.map(([v, t]) => (
              <option key={v} value={v}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div class="field field-check">
          <input id="monitor-desc" type="checkbox" checked={q.desc} onChange={(e) => setQuery({ desc: e.currentTarget.checked })} />
          <label for="monitor-desc">Reverse order</label>
        </div>
      </div>
      <div class="filters" role="group" aria-label="Filter by state">
        {FILTERS.map(([v, t]) => (
          <button key={v} type="button" class={`chip${q.state === v ? ' chip-on' : ''}`} aria-pressed={q.state === v} onClick={() => setQuery({ state: v })}>
            {t} <span class="chip-count">{counts[v]}</span>
          </button>
        ))}
      </div>
      {table === null && !error && <Loading what="Loading monitors" />}
      {table !== null && table.size === 0 && (
        <div class="empty">
          <h2>No monitors yet</h2>
          <p>Add your first monitor to start checking a website, port, DNS record or certificate.</p>
          <a class="button button-primary" href="/monitors/new">
            Create a monitor
          </a>
        </div>
      )}
      {table !== null && table.size > 0 && (
        <>
          <p class="muted" aria-live="polite">
            {rows.length === table.size ? `${rows.length} ${rows.length === 1 ? 'monitor' : 'monitors'}` : `${rows.length} of ${table.size} monitors match`}
          </p>
          <div class="table-wrap">
            <table class="monitors">
              <caption class="visually-hidden">Monitors with state, uptime, latency and last check</caption>
              <thead>
                <tr>
                  <th scope="col">Monitor</th>
                  <th scope="col">State</th>
                  <th scope="col" class="col-num">24 h</th>
                  <th scope="col" class="col-num hide-narrow">30 d</th>
                  <th scope="col" class="hide-narrow">Latency</th>
                  <th scope="col" class="hide-narrow">Last check</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((r) => (
                  <Row key={r.id} row={r} uptime={uptimes.get(r.id)} now={now} />
                ))}
              </tbody>
            </table>
          </div>
          {page.pages > 1 && (
            <nav class="pager" aria-label="Pages">
              <button type="button" class="button button-secondary" disabled={page.page <= 1} onClick={() => setQuery({ page: page.page - 1 })}>
                Previous
              </button>
              <span>
                Page {page.page} of {page.pages}
              </span>
              <button type="button" class="button button-secondary" disabled={page.page >= page.pages} onClick={() => setQuery({ page: page.page + 1 })}>
                Next
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}

function Row({ row, uptime, now }: { row: MonitorRow; uptime: Uptime | null | undefined; now: number }) {
  return (
    <tr data-monitor-id={row.id} data-state={row.state}>
      <td class="cell-name">
        <a href={`/monitors/${encodeURIComponent(row.id)}`}>{row.name}</a>
        <span class="target">{row.target}</span>
        {row.lastError && row.state !== 'up' && <span class="row-error">{row.lastError}</span>}
      </td>
      <td>
        <StateBadge state={row.state} />
        {row.openIncident && <span class="visually-hidden"> (open incident)</span>}
      </td>
      <td class="col-num">{uptime === undefined ? '…' : percent(uptime?.h24.uptime_percent)}</td>
      <td class="col-num hide-narrow">{uptime === undefined ? '…' : percent(uptime?.d30.uptime_percent)}</td>
      <td class="hide-narrow cell-latency">
        <Sparkline values={row.recent} label={`Latency of the last ${row.recent.length} checks, last ${ms(row.lastLatencyMs)}`} />
        <span class="latency-now">{ms(row.lastLatencyMs)}</span>
      </td>
      <td class="hide-narrow">{ago(row.lastCheckedAt, now)}</td>
    </tr>
  );
}
