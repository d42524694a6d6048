//! `/monitors/:id`: state, response-time chart, uptime, recent checks,
//! incidents, pause/resume; kept live by the event stream.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { CheckResult, Monitor } from '../api/models';
import { monitorTarget } from '../api/models';
import type { PageProps } from '../app/pages';
import { subscribeEvents } from '../live/stream';
import { navigate } from '../router/history';
import { ErrorNotice, Loading, PageHeader, StateBadge } from '../ui/components';
import { ago, dateTime, duration, ms, percent } from '../ui/format';
import { useAsync } from '../ui/useAsync';
import { IncidentList } from './IncidentList';
import { LatencyChart } from './LatencyChart';
import { bucketize } from './percentiles';
import { forget } from './summaries';

const DAY = 86_400_000;
const HOUR = 3_600_000;

async function lastDay(id: string, signal: AbortSignal): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  let cursor: string | undefined;
  // At most 3 pages of 1,000: a day of checks every 30 s.
  for (let i = 0; i < 3; i++) {
    const page = await api.get('/api/monitors/{id}/results', { params: { id }, query: { limit: 1000, from: Date.now() - DAY, cursor }, signal });
    out.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}

export default function MonitorDetail({ params }: PageProps) {
  const id = params.id ?? '';
  const mon = useAsync((signal) => api.get('/api/monitors/{id}', { params: { id }, signal }), [id]);
  const uptime = useAsync((signal) => api.get('/api/monitors/{id}/uptime', { params: { id }, signal }), [id]);
  const results = useAsync((signal) => lastDay(id, signal), [id]);
  const incidents = useAsync((signal) => api.get('/api/incidents', { query: { monitor_id: id, limit: 20 }, signal }), [id]);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  // The loaders' functions are stable, so the handler subscribes once per monitor.
  const handlers = useRef({ mon, results, uptime, incidents });
  handlers.current = { mon, results, uptime, incidents };
  useEffect(
    () =>
      subscribeEvents((ev) => {
        if (ev.monitor_id !== id) return;
        const { mon: m, results: r, uptime: u, incidents: inc } = handlers.current;
        if (ev.type === 'monitor.check') {
          m.update((d) => ({ ...d, state: ev.state, last_checked_at: ev.at, last_latency_ms: ev.latency_ms, last_error: ev.ok ? null : ev.error }));
          r.update((d) => [{ id: -ev.at, checked_at: ev.at, ok: ev.ok, latency_ms: ev.latency_ms, status_code: ev.status_code, error: ev.error, region: '' }, ...d]);
        } else if (ev.type === 'monitor.state') {
          m.update((d) => ({ ...d, state: ev.state }));
          u.reload();
        } else {
          inc.reload();
        }
      }),
    [id],
  );

  const buckets = useMemo(() => {
    const now = Date.now();
    return bucketize((results.data ?? []).map((r) => ({ at: r.checked_at, latency: r.latency_ms ?? null, ok: r.ok })), now - DAY, now, HOUR);
  }, [results.data]);

  async function setPaused(paused: boolean) {
    setBusy(true);
    setActionError(null);
    try {
      mon.set(await api.patch('/api/monitors/{id}', { params: { id }, body: { paused } }));
      forget(id);
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  }

  async function remove(m: Monitor) {
    if (!window.confirm(`Delete the monitor "${m.name}" and its history?`)) return;
    setActionError(null);
    try {
      await api.del('/api/monitors/{id}', { params: { id } });
      navigate('/monitors');
    } catch (e) {
      setActionError(e);
    }
  }

  const m = mon.data;
  if (mon.error) {
    return (
      <section>
        <PageHeader title="Monitor" />
        <ErrorNotice error={mon.error} />
        <a href="/monitors">Back to all monitors</a>
      </section>
    );
  }
  if (!m) return <Loading what="Loading the monitor" />;
  const state = m.paused ? 'paused' : m.state;
  const up = uptime.data;
  return (
    <section>
      <p class="breadcrumb">
        <a href="/monitors">Monitors</a> /
      </p>
      <PageHeader title={m.name}>
        <button type="button" class="button button-secondary" disabled={busy} onClick={() => void setPaused(!m.paused)}>
          {m.paused ? 'Resume' : 'Pause'}
        </button>
        <a class="button button-secondary" href={`/monitors/${encodeURIComponent(id)}/edit`}>
          Edit
        </a>
        <button type="button" class="button button-danger" onClick={() => void remove(m)}>
          Delete
        </button>
      </PageHeader>
      <ErrorNotice error={actionError} />
      <dl class="facts">
        <div>
          <dt>State</dt>
          <dd data-testid="monitor-state">
            <StateBadge state={state} />
          </dd>
        </div>
        <div>
          <dt>Target</dt>
          <dd class="target">{monitorTarget(m)}</dd>
        </div>
        <div>
          <dt>Last check</dt>
          <dd>
            {ago(m.last_checked_at)} · {ms(m.last_latency_ms)}
          </dd>
        </div>
        <div>
          <dt>Every</dt>
          <dd>{duration(m.interval_seconds * 1000)}</dd>
        </div>
      </dl>
      {m.last_error && state !== 'up' && (
        <p class="notice notice-warning" role="status">
          Last error: {m.last_error}
        </p>
      )}

      <h2>Uptime</h2>
      <ErrorNotice error={uptime.error} />
      <ul class="uptime-bars" aria-label="Uptime by period">
        {up &&
          ([
            ['24 hours', up.h24],
            ['7 days', up.d7],
            ['30 days', up.d30],
            ['90 days', up.d90],
          ] as const).map(([label, span]) => (
            <li key={label}>
              <span class="uptime-label">{label}</span>
              <meter min={0} max={100} low={99} high={99.9} optimum={100} value={span.uptime_percent ?? 0} aria-label={`Uptime over ${label}`} />
              <span class="uptime-value">{percent(span.uptime_percent)}</span>
            </li>
          ))}
      </ul>

      <h2>Response time (24 hours)</h2>
      <ErrorNotice error={results.error} />
      <LatencyChart buckets={buckets} />

      <h2>Incidents</h2>
      <ErrorNotice error={incidents.error} />
      <IncidentList items={incidents.data ?? []} />

      <h2>Recent checks</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Result</th>
              <th scope="col" class="col-num">Latency</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {(results.data ?? []).slice(0, 20).map((r) => (
              <tr key={r.id}>
                <td>{dateTime(r.checked_at)}</td>
                <td>{r.ok ? 'OK' : 'Failed'}</td>
                <td class="col-num">{ms(r.latency_ms)}</td>
                <td>{r.error ?? (r.status_code ? `HTTP ${r.status_code}` : '')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {results.data?.length === 0 && <p class="muted">No checks in the last 24 hours yet.</p>}
    </section>
  );
}
