//! Pieces of the incident and maintenance tabs: the list, the affected
//! components picker, and the form that opens one.

import { useState } from 'preact/hooks';
import { ApiError } from '../api/http';
import { ErrorNotice, Field, SelectField, TextAreaField } from '../ui/components';
import { dateTime } from '../ui/format';
import { errorFor, formError, incidentInput, incidentValues, toggle, type Component, type IncidentValues, type NewIncident, type PublicIncident } from './forms';
import { INCIDENT_IMPACTS, UPDATE_STATUSES, impactLabel, tone, updateStatusLabel, type Impact, type IncidentKind } from './labels';
import { incidentPath } from './links';

/** A status or impact as a badge with its word. */
export function Badge({ value, label }: { value: string; label: string }) {
  return <span class={`badge badge-${tone(value)}`}>{label}</span>;
}

/** Checkboxes for the page's components. */
export function ComponentChecklist(props: { idPrefix: string; components: readonly Component[]; selected: readonly string[]; onChange: (ids: string[]) => void; error?: string | undefined }) {
  const errId = `${props.idPrefix}-components-err`;
  return (
    <fieldset class={props.error ? 'field-invalid' : undefined} aria-describedby={props.error ? errId : undefined}>
      <legend>Affected components</legend>
      {props.components.length === 0 && <p class="muted">This page has no components yet.</p>}
      <ul class="check-list">
        {props.components.map((c) => {
          const id = `${props.idPrefix}-comp-${c.id}`;
          return (
            <li key={c.id}>
              <input id={id} type="checkbox" checked={props.selected.includes(c.id)} onChange={(e) => props.onChange(toggle(props.selected, c.id, e.currentTarget.checked))} />
              <label for={id}>{c.name}</label>
            </li>
          );
        })}
      </ul>
      {props.error && (
        <p class="field-error" id={errId}>
          {props.error}
        </p>
      )}
    </fieldset>
  );
}

/** Incidents or maintenance of a page, each linking to its own page. */
export function PublicIncidentList({ pageId, items, components, empty }: { pageId: string; items: readonly PublicIncident[]; components: ReadonlyMap<string, string>; empty: string }) {
  if (items.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ul class="incidents">
      {items.map((i) => {
        const latest = i.updates[0];
        return (
          <li key={i.id} class={`incident incident-${i.resolved_at ? 'resolved' : i.kind === 'maintenance' ? 'maintenance' : 'open'}`} data-public-incident-id={i.id}>
            <div class="incident-head">
              <a class="incident-title" href={incidentPath(pageId, i.id)}>
                {i.title}
              </a>{' '}
              <Badge value={i.resolved_at ? i.status : i.impact === 'none' ? 'pending' : i.impact} label={updateStatusLabel(i.status)} />
              {i.kind === 'incident' && !i.resolved_at && <span class="muted small"> · {impactLabel(i.impact)} impact</span>}
            </div>
            <div class="muted small">
              {i.kind === 'maintenance' && i.scheduled_for ? `${dateTime(i.scheduled_for)} – ${dateTime(i.scheduled_until)}` : `Started ${dateTime(i.started_at)}`}
              {i.resolved_at && ` · ${i.kind === 'incident' ? 'resolved' : 'completed'} ${dateTime(i.resolved_at)}`}
              {i.component_ids.length > 0 && ` · ${i.component_ids.map((c) => components.get(c) ?? 'a removed component').join(', ')}`}
            </div>
            {latest && <p class="incident-cause">{latest.body}</p>}
          </li>
        );
      })}
    </ul>
  );
}

const FIELDS = ['title', 'impact', 'status', 'body', 'component_ids', 'scheduled_for', 'scheduled_until'] as const;

/** Opens an incident or schedules a maintenance, with its first update. */
export function IncidentForm({ kind, components, onSubmit }: { kind: IncidentKind; components: readonly Component[]; onSubmit: (body: NewIncident) => Promise<unknown> }) {
  const [v, setV] = useState<IncidentValues>(incidentValues(kind));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof IncidentValues>(k: K) => (x: IncidentValues[K]) => setV((old) => ({ ...old, [k]: x }));
  const p = kind === 'incident' ? 'new-incident' : 'new-maintenance';
  const err = (f: string) => errorFor(error, f);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await onSubmit(incidentInput(v));
      setV(incidentValues(kind));
    } catch (x) {
      setError(x);
      if (x instanceof ApiError && x.field) window.setTimeout(() => document.getElementById(`f-${p}-${x.field ?? ''}`)?.focus(), 0);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="incident-form" onSubmit={(e) => void submit(e)} noValidate>
      <ErrorNotice error={formError(error, FIELDS)} />
      <Field
        name={`${p}-title`}
        label="Title"
        required
        value={v.title}
        onInput={set('title')}
        hint={kind === 'incident' ? 'What customers notice, e.g. "Slow logins".' : 'e.g. "Database upgrade".'}
        error={err('title')}
      />
      {kind === 'incident' ? (
        <div class="form-grid">
          <SelectField name={`${p}-impact`} label="Impact" value={v.impact} options={INCIDENT_IMPACTS} onChange={(x) => set('impact')(x as Impact)} error={err('impact')} />
          <SelectField name={`${p}-status`} label="Status" value={v.status} options={UPDATE_STATUSES.incident.slice(0, 3)} onChange={set('status')} error={err('status')} />
        </div>
      ) : (
        <div class="form-grid">
          <Field name={`${p}-scheduled_for`} label="Starts" type="datetime-local" required value={v.scheduled_for} onInput={set('scheduled_for')} error={err('scheduled_for')} />
          <Field name={`${p}-scheduled_until`} label="Ends" type="datetime-local" required value={v.scheduled_until} onInput={set('scheduled_until')} error={err('scheduled_until')} />
        </div>
      )}
      <TextAreaField
        name={`${p}-body`}
        label="Message"
        required
        rows={4}
        value={v.body}
        onInput={set('body')}
        hint={kind === 'incident' ? 'The first update, e.g. "We are investigating reports of slow logins."' : 'What will happen and what customers may notice.'}
        error={err('body')}
      />
      <ComponentChecklist idPrefix={p} components={components} selected={v.component_ids} onChange={set('component_ids')} error={err('component_ids')} />
      <button class="button button-primary" type="submit" disabled={busy}>
        {kind === 'incident' ? 'Publish incident' : 'Schedule maintenance'}
      </button>
    </form>
  );
}
