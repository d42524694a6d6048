//! One EventSource on `GET /api/events` for the whole app, shared by the views.
//! The browser resumes with `Last-Event-ID` by itself after a dropped
//! connection; when the server refuses the stream (an expired session) the
//! source closes, so the session is refreshed and the stream reopened.

import { EVENT_NAMES, parseEvent, type LiveEvent } from './events';
import { api } from '../api';

export type StreamStatus = 'connecting' | 'live' | 'offline';

type Listener = (ev: LiveEvent) => void;
type StatusListener = (s: StreamStatus) => void;

const listeners = new Set<Listener>();
const statusListeners = new Set<StatusListener>();
let source: EventSource | null = null;
let status: StreamStatus = 'offline';
let retryTimer: number | undefined;
let idleTimer: number | undefined;
let failures = 0;
/** A view that re-subscribes (new props) must not drop the connection: a new
 * EventSource could not resume with Last-Event-ID and would miss events. */
const IDLE_CLOSE_MS = 10_000;

function setStatus(s: StreamStatus): void {
  status = s;
  for (const l of statusListeners) l(s);
}

function open(): void {
  if (source) return;
  setStatus('connecting');
  const es = new EventSource('/api/events', { withCredentials: true });
  source = es;
  es.onopen = () => {
    failures = 0;
    setStatus('live');
  };
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      // Refused (401/404/5xx): refresh the session, then try again with backoff.
      es.close();
      source = null;
      setStatus('offline');
      failures++;
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(failures, 5));
      retryTimer = window.setTimeout(() => {
        void api.refresh().finally(() => {
          if (listeners.size > 0) open();
        });
      }, delay);
    } else {
      setStatus('connecting');
    }
  };
  for (const name of EVENT_NAMES) {
    es.addEventListener(name, (msg) => {
      const ev = parseEvent(name, (msg as MessageEvent<string>).data);
      if (ev) for (const l of listeners) l(ev);
    });
  }
}

function close(): void {
  window.clearTimeout(retryTimer);
  source?.close();
  source = null;
  setStatus('offline');
}

/** Receives live events while subscribed; the stream runs while anyone listens. */
export function subscribeEvents(listener: Listener): () => void {
  listeners.add(listener);
  window.clearTimeout(idleTimer);
  open();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      window.clearTimeout(idleTimer);
      idleTimer = window.setTimeout(() => {
        if (listeners.size === 0) close();
      }, IDLE_CLOSE_MS);
    }
  };
}

/** Follows the connection status (for the "Live" indicator). */
export function subscribeStatus(listener: StatusListener): () => void {
  statusListeners.add(listener);
  listener(status);
  return () => statusListeners.delete(listener);
}

/** Closes the stream (logout). */
export function stopEvents(): void {
  listeners.clear();
  window.clearTimeout(idleTimer);
  close();
}
