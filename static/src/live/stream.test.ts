import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** A stand-in for the browser's EventSource that tests drive by hand. */
class FakeSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static made: FakeSource[] = [];
  readyState = FakeSource.CONNECTING;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private handlers = new Map<string, ((m: { data: string }) => void)[]>();
  constructor(
    readonly url: string,
    readonly init: { withCredentials?: boolean },
  ) {
    FakeSource.made.push(this);
  }
  addEventListener(name: string, h: (m: { data: string }) => void) {
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), h]);
  }
  close() {
    this.readyState = FakeSource.CLOSED;
  }
  emit(name: string, data: unknown) {
    for (const h of this.handlers.get(name) ?? []) h({ data: JSON.stringify(data) });
  }
}

beforeAll(() => {
  vi.useFakeTimers();
  vi.stubGlobal('window', globalThis);
  vi.stubGlobal('EventSource', FakeSource);
});
afterAll(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('event stream', () => {
  it('shares one connection, survives re-subscription, closes when idle', async () => {
    const { subscribeEvents, subscribeStatus } = await import('./stream');
    const statuses: string[] = [];
    subscribeStatus((s) => statuses.push(s));
    const got: unknown[] = [];
    const off1 = subscribeEvents((e) => got.push(e));
    const off2 = subscribeEvents(() => {});
    expect(FakeSource.made).toHaveLength(1);
    const es = FakeSource.made[0] as FakeSource;
    expect(es.url).toBe('/api/events');
    es.readyState = FakeSource.OPEN;
    es.onopen?.();
    es.emit('monitor.state', { monitor_id: 'a', state: 'down', previous: 'up', at: 1 });
    es.emit('monitor.state', { monitor_id: 'a', state: 'exploded', at: 1 }); // ignored
    expect(got).toEqual([{ type: 'monitor.state', monitor_id: 'a', state: 'down', previous: 'up', at: 1 }]);

    // A view re-subscribing (new props) keeps the same connection: a new
    // EventSource could not resume with Last-Event-ID.
    off1();
    off2();
    const off3 = subscribeEvents(() => {});
    expect(FakeSource.made).toHaveLength(1);
    expect(es.readyState).toBe(FakeSource.OPEN);

    off3();
    vi.advanceTimersByTime(10_001);
    expect(es.readyState).toBe(FakeSource.CLOSED);
    expect(statuses).toEqual(['offline', 'connecting', 'live', 'offline']);
  });
});
