import { describe, expect, it } from 'vitest';
import { parseEvent, type LiveEvent } from './events';
import { SPARK_POINTS, applyEvent, pushPoint, type MonitorRow, type MonitorTable } from './reducer';

function row(id: string, over: Partial<MonitorRow> = {}): MonitorRow {
  return { id, name: id, kind: 'http', state: 'pending', target: '', lastCheckedAt: null, lastLatencyMs: null, lastError: null, recent: [], openIncident: null, ...over };
}
const table = (): MonitorTable => new Map([['a', row('a')], ['b', row('b')]]);

describe('event stream parsing', () => {
  it('parses the four contract events', () => {
    expect(parseEvent('monitor.state', '{"monitor_id":"a","state":"down","previous":"up","at":5}')).toEqual({ type: 'monitor.state', monitor_id: 'a', state: 'down', previous: 'up', at: 5 });
    expect(parseEvent('monitor.check', '{"monitor_id":"a","ok":true,"state":"up","latency_ms":12,"status_code":200,"error":null,"at":6}')).toMatchObject({ type: 'monitor.check', latency_ms: 12 });
    expect(parseEvent('incident.opened', '{"incident_id":"i","monitor_id":"a","started_at":7,"cause":"HTTP 500"}')).toMatchObject({ type: 'incident.opened', cause: 'HTTP 500' });
    expect(parseEvent('incident.resolved', '{"incident_id":"i","monitor_id":"a","resolved_at":8}')).toMatchObject({ type: 'incident.resolved' });
  });

  it('ignores malformed or unknown events', () => {
    expect(parseEvent('monitor.state', 'not json')).toBeNull();
    expect(parseEvent('monitor.state', '{"monitor_id":"a","state":"exploded","at":1}')).toBeNull();
    expect(parseEvent('monitor.check', '{"monitor_id":"a","ok":"yes","state":"up","at":1}')).toBeNull();
    expect(parseEvent('something.else', '{}')).toBeNull();
    expect(parseEvent('monitor.state', 'null')).toBeNull();
  });
});

describe('monitor table reducer', () => {
  it('changes only the row an event names (others keep identity)', () => {
    const t = table();
    const next = applyEvent(t, { type: 'monitor.state', monitor_id: 'a', state: 'down', previous: 'up', at: 1 });
    expect(next.get('a')?.state).toBe('down');
    expect(next.get('b')).toBe(t.get('b'));
    expect(next).not.toBe(t);
  });

  it('returns the same table when nothing changes or the monitor is unknown', () => {
    const t = table();
    expect(applyEvent(t, { type: 'monitor.state', monitor_id: 'a', state: 'pending', previous: null, at: 1 })).toBe(t);
    expect(applyEvent(t, { type: 'monitor.state', monitor_id: 'zzz', state: 'up', previous: null, at: 1 })).toBe(t);
  });

  it('records checks: latency, error, sparkline point; older replays are ignored', () => {
    let t = table();
    const check = (at: number, ok: boolean, latency: number | null): LiveEvent => ({ type: 'monitor.check', monitor_id: 'a', ok, state: ok ? 'up' : 'down', latency_ms: latency, status_code: ok ? 200 : 500, error: ok ? null : 'HTTP 500', at });
    t = applyEvent(t, check(10, true, 40));
    t = applyEvent(t, check(20, false, 15));
    expect(t.get('a')).toMatchObject({ state: 'down', lastCheckedAt: 20, lastLatencyMs: 15, lastError: 'HTTP 500', recent: [40, null] });
    const before = t;
    t = applyEvent(t, check(15, true, 99));
    expect(t).toBe(before);
  });

  it('tracks the open incident', () => {
    let t = table();
    t = applyEvent(t, { type: 'incident.opened', incident_id: 'i1', monitor_id: 'a', started_at: 1, cause: null });
    expect(t.get('a')?.openIncident).toBe('i1');
    t = applyEvent(t, { type: 'incident.resolved', incident_id: 'other', monitor_id: 'a', resolved_at: 2 });
    expect(t.get('a')?.openIncident).toBe('i1');
    t = applyEvent(t, { type: 'incident.resolved', incident_id: 'i1', monitor_id: 'a', resolved_at: 3 });
    expect(t.get('a')?.openIncident).toBeNull();
  });

  it('keeps at most SPARK_POINTS points', () => {
    let pts: (number | null)[] = [];
    for (let i = 0; i < SPARK_POINTS + 5; i++) pts = pushPoint(pts, i);
    expect(pts).toHaveLength(SPARK_POINTS);
    expect(pts[0]).toBe(5);
    expect(pts[SPARK_POINTS - 1]).toBe(SPARK_POINTS + 4);
  });
});
