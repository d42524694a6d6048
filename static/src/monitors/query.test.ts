import { describe, expect, it } from 'vitest';
import type { MonitorRow } from '../live/reducer';
import { countStates, formatQuery, pageOf, parseQuery, selectRows } from './query';
import { sparkPoints } from './sparkline';
import { bucketize, percentile } from './percentiles';
import { defaults, fromMonitor, toInput } from './form';
import type { Monitor } from '../api/models';

function row(id: string, name: string, state: MonitorRow['state'], latency: number | null, checked: number | null, target = ''): MonitorRow {
  return { id, name, kind: 'http', state, target, lastCheckedAt: checked, lastLatencyMs: latency, lastError: null, recent: [], openIncident: null };
}
const rows = [
  row('1', 'API', 'up', 120, 300, 'https://api.example.com'),
  row('2', 'web 10', 'down', null, 100, 'https://example.com'),
  row('3', 'web 9', 'up', 40, 200),
  row('4', 'Backup', 'paused', 80, null),
  row('5', 'db', 'degraded', 900, 250),
];

describe('dashboard query', () => {
  it('round-trips through the URL, defaults left out', () => {
    const q = parseQuery('?q=web&state=down&sort=latency&dir=desc&page=2');
    expect(q).toEqual({ q: 'web', state: 'down', sort: 'latency', desc: true, page: 2 });
    expect(parseQuery(formatQuery(q))).toEqual(q);
    expect(formatQuery(parseQuery(''))).toBe('');
  });

  it('falls back to defaults for unknown values', () => {
    expect(parseQuery('?state=bogus&sort=evil&page=-3')).toEqual({ q: '', state: 'all', sort: 'state', desc: false, page: 1 });
  });

  it('sorts by state worst first, then by name (numeric aware)', () => {
    expect(selectRows(rows, parseQuery('')).map((r) => r.id)).toEqual(['2', '5', '1', '3', '4']);
    expect(selectRows(rows, parseQuery('?sort=name')).map((r) => r.name)).toEqual(['API', 'Backup', 'db', 'web 9', 'web 10']);
  });

  it('sorts by latency with unknown last, and by last check newest first', () => {
    expect(selectRows(rows, parseQuery('?sort=latency')).map((r) => r.id)).toEqual(['3', '4', '1', '5', '2']);
    expect(selectRows(rows, parseQuery('?sort=checked')).map((r) => r.id)).toEqual(['1', '5', '3', '2', '4']);
    expect(selectRows(rows, parseQuery('?sort=latency&dir=desc')).map((r) => r.id)).toEqual(['2', '5', '1', '4', '3']);
  });

  it('filters by state and searches name and target, case-insensitively', () => {
    expect(selectRows(rows, parseQuery('?state=up')).map((r) => r.id)).toEqual(['1', '3']);
    expect(selectRows(rows, parseQuery('?q=WEB')).map((r) => r.id)).toEqual(['2', '3']);
    expect(selectRows(rows, parseQuery('?q=api.example')).map((r) => r.id)).toEqual(['1']);
    expect(selectRows(rows, parseQuery('?q=nothing'))).toEqual([]);
  });

  it('counts states and pages', () => {
    expect(countStates(rows)).toEqual({ all: 5, up: 2, down: 1, degraded: 1, pending: 0, paused: 1 });
    const many = Array.from({ length: 1000 }, (_, i) => i);
    expect(pageOf(many, 3, 50)).toMatchObject({ page: 3, pages: 20 });
    expect(pageOf(many, 3, 50).items[0]).toBe(100);
    expect(pageOf(many, 99, 50).page).toBe(20);
    expect(pageOf([], 1, 50)).toEqual({ items: [], page: 1, pages: 1 });
  });

  it('sorts 1,000 monitors quickly', () => {
    const big = Array.from({ length: 1000 }, (_, i) => row(String(i), `monitor ${i}`, i % 7 === 0 ? 'down' : 'up', i, i));
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) selectRows(big, parseQuery('?sort=name&q=monitor'));
    expect((performance.now() - t0) / 20).toBeLessThan(50);
  });
});

describe('charts', () => {
  it('draws sparklines with failures apart', () => {
    const { line, failures } = sparkPoints([10, null, 30], 100, 24);
    expect(line).toBe('0,22 100,2');
    expect(failures).toEqual([50]);
    expect(sparkPoints([], 100, 24)).toEqual({ line: '', failures: [] });
  });

  it('computes nearest-rank percentiles per bucket', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([], 50)).toBeNull();
    const b = bucketize(
      [
        { at: 0, latency: 10, ok: true },
        { at: 500, latency: 30, ok: true },
        { at: 1500, latency: null, ok: false },
        { at: 5000, latency: 1, ok: true },
      ],
      0,
      2000,
      1000,
    );
    expect(b).toEqual([
      { t: 0, p50: 10, p95: 30, checks: 2, failures: 0 },
      { t: 1, p50: null, p95: null, checks: 1, failures: 1 },
    ]);
  });
});

describe('monitor form', () => {
  it('builds an HTTP monitor body with parsed fields', () => {
    const v = { ...defaults('http'), name: 'Site', url: 'https://example.com', expected_status: '200, 204', headers: 'X-A: 1\nX-B: two', json_equals: '"ok"' };
    expect(toInput(v, false)).toMatchObject({ name: 'Site', kind: 'http', url: 'https://example.com', interval_seconds: 60, expected_status: [200, 204], headers: { 'X-A': '1', 'X-B': 'two' }, json_equals: 'ok', follow_redirects: true });
  });

  it('sends only the fields of the kind, and no kind on update', () => {
    const body = toInput({ ...defaults('tcp'), name: 'db', host: 'db.local', port: '5432' }, true) as Record<string, unknown>;
    expect(body).toMatchObject({ name: 'db', host: 'db.local', port: 5432 });
    expect(body.kind).toBeUndefined();
    expect(body.url).toBeUndefined();
  });

  it('names the field at fault for bad input', () => {
    expect(() => toInput({ ...defaults('http'), interval_seconds: 'often' }, false)).toThrow(expect.objectContaining({ field: 'interval_seconds' }));
    expect(() => toInput({ ...defaults('http'), expected_status: '2xx' }, false)).toThrow(expect.objectContaining({ field: 'expected_status' }));
    expect(() => toInput({ ...defaults('http'), headers: 'no colon' }, false)).toThrow(expect.objectContaining({ field: 'headers' }));
    expect(() => toInput({ ...defaults('http'), json_equals: '{bad' }, false)).toThrow(expect.objectContaining({ field: 'json_equals' }));
    expect(() => toInput({ ...defaults('http'), kind: 'ftp' }, false)).toThrow(expect.objectContaining({ field: 'kind' }));
  });

  it('fills the form from a monitor', () => {
    const m = { id: 'm', name: 'Site', kind: 'http', state: 'up', paused: false, interval_seconds: 30, timeout_seconds: 5, next_check_at: 0, created_at: 0, updated_at: 0, url: 'https://x', headers: { A: 'b' }, expected_status: [200] } as unknown as Monitor;
    expect(fromMonitor(m)).toMatchObject({ name: 'Site', kind: 'http', interval_seconds: '30', url: 'https://x', headers: 'A: b', expected_status: '200' });
  });
});
