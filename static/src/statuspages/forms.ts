//! The status-page editor's form values ↔ the API's bodies, and the API's
//! per-field errors in words (pure, unit-tested).

import { ApiError } from '../api/http';
import type { Schemas } from '../api';
import type { ComponentStatus, Impact, IncidentKind } from './labels';

export type StatusPage = Schemas['StatusPage'];
export type StatusPageInput = Schemas['StatusPageInput'];
export type Component = Schemas['Component'];
export type ComponentInput = Schemas['ComponentInput'];
export type Group = Schemas['Group'];
export type PublicIncident = Schemas['PublicIncident'];
export type NewIncident = Schemas['NewIncident'];
export type IncidentPatch = Schemas['IncidentPatch'];
export type Subscriber = Schemas['Subscriber'];

/** Names of the fields the API may name, as the forms label them. */
const FIELD_LABELS: Record<string, string> = {
  title: 'Title',
  description: 'Description',
  logo_url: 'Logo URL',
  domain_id: 'Custom domain',
  is_default: 'Default page',
  name: 'Name',
  group_id: 'Group',
  position: 'Position',
  manual_status: 'Status',
  monitor_ids: 'Monitors',
  impact: 'Impact',
  status: 'Status',
  body: 'Message',
  component_ids: 'Affected components',
  scheduled_for: 'Starts',
  scheduled_until: 'Ends',
  monitor_incident_id: 'Monitor incident',
};

/**
 * The API words field errors as a predicate ("is required", "must be at
 * most 100 characters"); beside a field or in a notice they read better as
 * a sentence naming the field: "Title is required." (422 answers prefix
 * the raw field name, "title: is required"; that prefix is dropped.)
 */
export function sentence(field: string | undefined, message: string): string {
  let text = message.trim();
  // 422 messages arrive as "field: predicate"; the label replaces the raw name.
  if (field && text.startsWith(`${field}:`)) text = text.slice(field.length + 1).trim();
  const label = field ? FIELD_LABELS[field] : undefined;
  // Other raw names inside the text ("must be after scheduled_for") read as their labels.
  text = text.replace(/\b[a-z]+(?:_[a-z]+)+\b/g, (raw) => FIELD_LABELS[raw]?.toLowerCase() ?? raw);
  const full = label && PREDICATE.test(text) ? `${label} ${text}` : text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(full) ? full : `${full}.`;
}

/** How the API's field messages begin when they leave the subject (the field) out. */
const PREDICATE = /^(is|are|must|may|can|cannot|does|do|has|have|needs?|should|was|were|not)\b/;

/** The error for `field` when the API named it, as a sentence. */
export function errorFor(err: unknown, field: string): string | undefined {
  return err instanceof ApiError && err.field === field ? sentence(field, err.message) : undefined;
}

/** The error as a form-level message, unless it belongs beside one of `shown`. */
export function formError(err: unknown, shown: readonly string[]): unknown {
  if (!err) return null;
  if (err instanceof ApiError) {
    if (err.field && shown.includes(err.field)) return null;
    if (err.field) return new ApiError(err.status, err.code, sentence(err.field, err.message), err.field);
  }
  return err;
}

function invalid(field: string, message: string): ApiError {
  return new ApiError(422, 'invalid', message, field);
}

// ---- Page settings ----

export interface PageValues {
  title: string;
  description: string;
  logo_url: string;
  domain_id: string;
  is_default: boolean;
}

export function pageValues(p?: StatusPage): PageValues {
  return {
    title: p?.title ?? '',
    description: p?.description ?? '',
    logo_url: p?.logo_url ?? '',
    domain_id: p?.domain_id ?? '',
    is_default: p?.is_default ?? false,
  };
}

/** The PATCH/POST body: empty logo and domain clear them. */
export function pageInput(v: PageValues): StatusPageInput {
  const body: StatusPageInput = {
    title: v.title.trim(),
    description: v.description.trim(),
    logo_url: v.logo_url.trim() || null,
    domain_id: v.domain_id || null,
  };
  if (v.is_default) body.is_default = true;
  return body;
}

// ---- Components ----

export interface ComponentValues {
  name: string;
  description: string;
  group_id: string;
  /** `monitors`: the status follows the bound monitors; `manual`: set by hand. */
  source: 'monitors' | 'manual';
  monitor_ids: string[];
  manual_status: ComponentStatus;
  only_show_if_degraded: boolean;
  showcase: boolean;
}

export function componentValues(c?: Component, groupId = ''): ComponentValues {
  return {
    name: c?.name ?? '',
    description: c?.description ?? '',
    group_id: c ? (c.group_id ?? '') : groupId,
    source: c && (c.manual_status || c.monitor_ids.length === 0) ? 'manual' : 'monitors',
    monitor_ids: c ? [...c.monitor_ids] : [],
    manual_status: c?.manual_status ?? 'operational',
    only_show_if_degraded: c?.only_show_if_degraded ?? false,
    showcase: c?.showcase ?? true,
  };
}

/**
 * The body for creating or changing a component. A component follows its
 * monitors or a status set by hand, never both: switching sides clears the
 * other (`manual_status: null` or `monitor_ids: []`).
 */
export function componentInput(v: ComponentValues, position?: number): ComponentInput {
  if (v.source === 'monitors' && v.monitor_ids.length === 0) {
    throw invalid('monitor_ids', 'Choose at least one monitor, or set the status by hand.');
  }
  const body: ComponentInput = {
    name: v.name.trim(),
    description: v.description.trim(),
    group_id: v.group_id || null,
    only_show_if_degraded: v.only_show_if_degraded,
    showcase: v.showcase,
    ...(v.source === 'monitors' ? { monitor_ids: [...v.monitor_ids], manual_status: null } : { monitor_ids: [], manual_status: v.manual_status }),
  };
  if (position !== undefined) body.position = position;
  return body;
}

/** `ids` with `id` added or removed. */
export function toggle(ids: readonly string[], id: string, on: boolean): string[] {
  const rest = ids.filter((x) => x !== id);
  return on ? [...rest, id] : rest;
}

// ---- Incidents and maintenance ----

export interface IncidentValues {
  kind: IncidentKind;
  title: string;
  impact: Impact;
  status: string;
  body: string;
  component_ids: string[];
  /** `datetime-local` texts (maintenance). */
  scheduled_for: string;
  scheduled_until: string;
}

export function incidentValues(kind: IncidentKind): IncidentValues {
  return {
    kind,
    title: '',
    impact: kind === 'incident' ? 'minor' : 'maintenance',
    status: kind === 'incident' ? 'investigating' : 'scheduled',
    body: '',
    component_ids: [],
    scheduled_for: '',
    scheduled_until: '',
  };
}

/** `datetime-local` text (local time) → ms; throws naming the field when it is not a time. */
export function localTime(field: string, text: string): number {
  if (!text) throw invalid(field, 'is required');
  const ms = new Date(text).getTime();
  if (Number.isNaN(ms)) throw invalid(field, 'must be a date and time');
  return ms;
}

/** ms → `datetime-local` text in local time. */
export function toLocalInput(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function incidentInput(v: IncidentValues): NewIncident {
  const body: NewIncident = {
    kind: v.kind,
    title: v.title.trim(),
    impact: v.impact,
    status: v.status as NewIncident['status'],
    body: v.body.trim(),
    component_ids: [...v.component_ids],
  };
  if (v.kind === 'maintenance') {
    body.scheduled_for = localTime('scheduled_for', v.scheduled_for);
    body.scheduled_until = localTime('scheduled_until', v.scheduled_until);
  }
  return body;
}

/** The edit form's values of an existing incident. */
export function patchValues(i: PublicIncident): IncidentValues {
  return {
    kind: i.kind,
    title: i.title,
    impact: i.impact,
    status: i.status,
    body: '',
    component_ids: [...i.component_ids],
    scheduled_for: toLocalInput(i.scheduled_for),
    scheduled_until: toLocalInput(i.scheduled_until),
  };
}

export function incidentPatch(v: IncidentValues): IncidentPatch {
  const body: IncidentPatch = { title: v.title.trim(), impact: v.impact, component_ids: [...v.component_ids] };
  if (v.kind === 'maintenance') {
    body.scheduled_for = localTime('scheduled_for', v.scheduled_for);
    body.scheduled_until = localTime('scheduled_until', v.scheduled_until);
  }
  return body;
}

/** Open: not resolved or completed. */
export function isOpen(i: PublicIncident): boolean {
  return !i.resolved_at;
}
