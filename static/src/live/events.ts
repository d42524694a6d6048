//! The live events of `GET /api/events` (contract in /work/contracts.md), parsed and checked.

export type MonitorState = 'pending' | 'up' | 'degraded' | 'down' | 'paused';

export interface MonitorStateEvent {
  type: 'monitor.state';
  monitor_id: string;
  state: MonitorState;
  previous: string | null;
  at: number;
}

export interface MonitorCheckEvent {
  type: 'monitor.check';
  monitor_id: string;
  ok: boolean;
  state: string;
  latency_ms: number | null;
  status_code: number | null;
  error: string | null;
  at: number;
}

export interface IncidentOpenedEvent {
  type: 'incident.opened';
  incident_id: string;
  monitor_id: string;
  started_at: number;
  cause: string | null;
}

export interface IncidentResolvedEvent {
  type: 'incident.resolved';
  incident_id: string;
  monitor_id: string;
  resolved_at: number;
}

export type LiveEvent =
  | MonitorStateEvent
  | MonitorCheckEvent
  | IncidentOpenedEvent
  | IncidentResolvedEvent;

/** Event names the stream sends. */
export const EVENT_NAMES = [
  'monitor.state',
  'monitor.check',
  'incident.opened',
  'incident.resolved',
] as const;

const STATES = new Set(['pending', 'up', 'degraded', 'down', 'paused']);

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const strOrNull = (v: unknown): v is string | null => v === null || isStr(v);
const numOrNull = (v: unknown): v is number | null => v === null || isNum(v);

/** Parses one event; null for unknown names or malformed data (ignored, never fatal). */
export function parseEvent(name: string, data: string): LiveEvent | null {
  let d: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(data);
    if (typeof parsed !== 'object' || parsed === null) return null;
    d = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  switch (name) {
    case 'monitor.state':
      if (isStr(d.monitor_id) && isStr(d.state) && STATES.has(d.state) && strOrNull(d.previous ?? null) && isNum(d.at)) {
        return { type: name, monitor_id: d.monitor_id, state: d.state as MonitorState, previous: (d.previous as string | null) ?? null, at: d.at };
      }
      return null;
    case 'monitor.check':
      if (isStr(d.monitor_id) && typeof d.ok === 'boolean' && isStr(d.state) && isNum(d.at) &&
          numOrNull(d.latency_ms ?? null) && numOrNull(d.status_code ?? null) && strOrNull(d.error ?? null)) {
        return {
          type: name, monitor_id: d.monitor_id, ok: d.ok, state: d.state, at: d.at,
          latency_ms: (d.latency_ms as number | null) ?? null,
          status_code: (d.status_code as number | null) ?? null,
          error: (d.error as string | null) ?? null,
        };
      }
      return null;
    case 'incident.opened':
      if (isStr(d.incident_id) && isStr(d.monitor_id) && isNum(d.started_at) && strOrNull(d.cause ?? null)) {
        return { type: name, incident_id: d.incident_id, monitor_id: d.monitor_id, started_at: d.started_at, cause: (d.cause as string | null) ?? null };
      }
      return null;
    case 'incident.resolved':
      if (isStr(d.incident_id) && isStr(d.monitor_id) && isNum(d.resolved_at)) {
        return { type: name, incident_id: d.incident_id, monitor_id: d.monitor_id, resolved_at: d.resolved_at };
      }
      return null;
    default:
      return null;
  }
}
