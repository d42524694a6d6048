//! Uptime and recent latencies of the monitors on screen, fetched once per
//! monitor when its row first becomes visible (a few at a time), then kept
//! current by live events. Nothing here polls.

import { api } from '../api';
import type { Uptime } from '../api/models';

export interface Summary {
  uptime: Uptime | null;
  /** Oldest first; null = failed check. */
  recent: (number | null)[];
}

const cache = new Map<string, Summary>();
const inflight = new Set<string>();
let queue: string[] = [];
const MAX_ACTIVE = 6;
type Listener = (id: string, s: Summary) => void;
const listeners = new Set<Listener>();

export function getSummary(id: string): Summary | undefined {
  return cache.get(id);
}

export function subscribeSummaries(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

async function load(id: string): Promise<void> {
  const [uptime, results] = await Promise.all([
    api.get('/api/monitors/{id}/uptime', { params: { id } }).catch(() => null),
    api.get('/api/monitors/{id}/results', { params: { id }, query: { limit: 30 } }).catch(() => null),
  ]);
  const recent = (results?.items ?? []).slice().reverse().map((r) => (r.ok ? (r.latency_ms ?? null) : null));
  const s: Summary = { uptime, recent };
  cache.set(id, s);
  for (const l of listeners) l(id, s);
}

function pump(): void {
  while (inflight.size < MAX_ACTIVE && queue.length > 0) {
    const id = queue.shift() as string;
    inflight.add(id);
    void load(id).finally(() => {
      inflight.delete(id);
      pump();
    });
  }
}

/** Asks for the summaries of the rows on screen; rows no longer shown leave the queue. */
export function want(ids: readonly string[]): void {
  queue = ids.filter((id) => !cache.has(id) && !inflight.has(id));
  pump();
}

/** Forgets one monitor's summary (after an edit). */
export function forget(id: string): void {
  cache.delete(id);
}
