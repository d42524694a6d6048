//! Names for the API's schemas used across views.

import type { Schemas } from './typed';

export type Monitor = Schemas['Monitor'];
export type MonitorInput = Schemas['MonitorInput'];
export type Incident = Schemas['Incident'];
export type CheckResult = Schemas['CheckResult'];
export type Uptime = Schemas['Uptime'];
export type Organization = Schemas['Organization'];
export type SessionBody = Schemas['SessionBody'];
export type Role = Schemas['Role'];

/** A kind-specific setting of a monitor (flattened into the monitor object). */
export function setting(m: Monitor, key: string): unknown {
  return (m as Record<string, unknown>)[key];
}

/** What a monitor watches, in one line. */
export function monitorTarget(m: Monitor): string {
  const s = (k: string) => {
    const v = setting(m, k);
    return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
  };
  switch (m.kind) {
    case 'http':
      return s('url');
    case 'tcp':
    case 'tls':
      return s('port') ? `${s('host')}:${s('port')}` : s('host');
    case 'dns':
      return `${s('record_type') || 'A'} ${s('host')}`;
    case 'heartbeat':
      return 'heartbeat pings';
    default:
      return '';
  }
}
