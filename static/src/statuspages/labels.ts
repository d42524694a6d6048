//! Words for the status-page vocabulary (component statuses, impacts, update
//! statuses), spelled as the public page spells them.

import type { Schemas } from '../api';

export type ComponentStatus = Schemas['ComponentStatus'];
export type Impact = Schemas['Impact'];
export type IncidentKind = Schemas['Kind'];

export const COMPONENT_STATUSES: readonly (readonly [ComponentStatus, string])[] = [
  ['operational', 'Operational'],
  ['degraded_performance', 'Degraded performance'],
  ['partial_outage', 'Partial outage'],
  ['major_outage', 'Major outage'],
  ['under_maintenance', 'Under maintenance'],
];

/** Impacts a person picks for an incident (maintenance has its own). */
export const INCIDENT_IMPACTS: readonly (readonly [Impact, string])[] = [
  ['none', 'None'],
  ['minor', 'Minor'],
  ['major', 'Major'],
  ['critical', 'Critical'],
];

/** Update statuses of each kind, in their usual order; the last one closes it. */
export const UPDATE_STATUSES: Record<IncidentKind, readonly (readonly [string, string])[]> = {
  incident: [
    ['investigating', 'Investigating'],
    ['identified', 'Identified'],
    ['monitoring', 'Monitoring'],
    ['resolved', 'Resolved'],
  ],
  maintenance: [
    ['scheduled', 'Scheduled'],
    ['in_progress', 'In progress'],
    ['verifying', 'Verifying'],
    ['completed', 'Completed'],
  ],
};

/** The status that closes an incident or a maintenance. */
export function finalStatus(kind: IncidentKind): string {
  return kind === 'incident' ? 'resolved' : 'completed';
}

function lookup(table: readonly (readonly [string, string])[], key: string): string {
  return table.find(([k]) => k === key)?.[1] ?? key.replace(/_/g, ' ');
}

export function componentStatusLabel(s: string): string {
  return lookup(COMPONENT_STATUSES, s);
}

export function impactLabel(i: string): string {
  return i === 'maintenance' ? 'Maintenance' : lookup(INCIDENT_IMPACTS, i);
}

export function updateStatusLabel(s: string): string {
  return lookup([...UPDATE_STATUSES.incident, ...UPDATE_STATUSES.maintenance], s);
}

/** Badge colour class (the monitors' palette) for a component status or impact. */
export function tone(s: string): 'up' | 'degraded' | 'down' | 'pending' {
  switch (s) {
    case 'operational':
    case 'none':
    case 'resolved':
    case 'completed':
      return 'up';
    case 'degraded_performance':
    case 'minor':
      return 'degraded';
    case 'partial_outage':
    case 'major':
    case 'major_outage':
    case 'critical':
      return 'down';
    default:
      return 'pending';
  }
}
