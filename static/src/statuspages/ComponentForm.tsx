//! Add or change a component: its name, group, and where its status comes
//! from (the monitors it follows, or set by hand).

import { useState } from 'preact/hooks';
import { ApiError } from '../api/http';
import type { Monitor } from '../api/models';
import { monitorTarget } from '../api/models';
import { CheckField, ErrorNotice, Field, SelectField, StateBadge } from '../ui/components';
import { errorFor, formError, toggle, type ComponentInput, type ComponentValues, type Group, componentInput } from './forms';
import { COMPONENT_STATUSES, type ComponentStatus } from './labels';

const FIELDS = ['name', 'description', 'group_id', 'manual_status', 'monitor_ids', 'only_show_if_degraded', 'showcase'] as const;
/** Above this many monitors the picker gets a filter box. */
const FILTER_FROM = 8;
/** At most this many unselected matches are listed (the filter narrows them). */
const SHOW_AT_MOST = 50;

/** Checkboxes for the organisation's monitors, with a filter when there are many. */
export function MonitorPicker(props: { idPrefix: string; monitors: readonly Monitor[]; selected: readonly string[]; onChange: (ids: string[]) => void; error?: string | undefined }) {
  const [filter, setFilter] = useState('');
  const q = filter.trim().toLowerCase();
  const chosen = props.monitors.filter((m) => props.selected.includes(m.id));
  const others = props.monitors.filter((m) => !props.selected.includes(m.id) && (!q || m.name.toLowerCase().includes(q) || monitorTarget(m).toLowerCase().includes(q)));
  const shown = [...chosen, ...others.slice(0, SHOW_AT_MOST)];
  const errId = `${props.idPrefix}-monitors-err`;
  return (
    <fieldset class={`monitor-picker${props.error ? ' field-invalid' : ''}`} aria-describedby={props.error ? errId : undefined}>
      <legend>Monitors it follows</legend>
      <p class="field-hint">The component shows the worst state of these monitors.</p>
      {props.monitors.length > FILTER_FROM && (
        <div class="field">
          <label for={`${props.idPrefix}-monitor-filter`}>Filter monitors</label>
          <input id={`${props.idPrefix}-monitor-filter`} type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        </div>
      )}
      {props.monitors.length === 0 && (
        <p class="muted">
          No monitors yet. <a href="/monitors/new">Create a monitor</a>, or set the status by hand.
        </p>
      )}
      <ul class="check-list">
        {shown.map((m) => {
          const id = `${props.idPrefix}-mon-${m.id}`;
          return (
            <li key={m.id}>
              <input id={id} type="checkbox" checked={props.selected.includes(m.id)} onChange={(e) => props.onChange(toggle(props.selected, m.id, e.currentTarget.checked))} />
              <label for={id}>
                {m.name} <span class="muted small">{monitorTarget(m)}</span>
              </label>
              <StateBadge state={m.state} />
            </li>
          );
        })}
      </ul>
      {others.length > SHOW_AT_MOST && <p class="field-hint">{others.length - SHOW_AT_MOST} more: type in the filter to find them.</p>}
      {props.error && (
        <p class="field-error" id={errId}>
          {props.error}
        </p>
      )}
    </fieldset>
  );
}

export function ComponentForm(props: {
  /** Unique per form on the page (ids of its fields). */
  idPrefix: string;
  initial: ComponentValues;
  groups: readonly Group[];
  monitors: readonly Monitor[];
  submitLabel: string;
  /** The new component's position (given only when adding). */
  position: (groupId: string) => number | undefined;
  onSubmit: (body: ComponentInput) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const [v, setV] = useState<ComponentValues>(props.initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof ComponentValues>(k: K) => (x: ComponentValues[K]) => setV((old) => ({ ...old, [k]: x }));
  const p = props.idPrefix;
  // Field ids carry the form's prefix, so two forms on one page stay apart.
  const name = (f: string) => `${p}-${f}`;
  const err = (f: string) => errorFor(error, f);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await props.onSubmit(componentInput(v, props.position(v.group_id)));
      setV(props.initial);
    } catch (x) {
      setError(x);
      if (x instanceof ApiError && x.field) window.setTimeout(() => document.getElementById(`f-${p}-${x.field ?? ''}`)?.focus(), 0);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="component-form" onSubmit={(e) => void submit(e)} noValidate>
      <ErrorNotice error={formError(error, FIELDS)} />
      <div class="form-grid">
        <Field name={name('name')} label="Name" required value={v.name} onInput={set('name')} hint="What your customers know it as, e.g. API or Website." error={err('name')} />
        <SelectField
          name={name('group_id')}
          label="Group"
          value={v.group_id}
          options={[['', 'No group'] as const, ...props.groups.map((g) => [g.id, g.name] as const)]}
          onChange={set('group_id')}
          error={err('group_id')}
        />
      </div>
      <Field name={name('description')} label="Description" value={v.description} onInput={set('description')} hint="Optional, shown beside the name." error={err('description')} />
      <fieldset class="radio-group">
        <legend>Its status comes from</legend>
        <div class="field-check">
          <input id={`${p}-src-monitors`} type="radio" name={`${p}-source`} checked={v.source === 'monitors'} onChange={() => set('source')('monitors')} />
          <label for={`${p}-src-monitors`}>Monitors</label>
        </div>
        <div class="field-check">
          <input id={`${p}-src-manual`} type="radio" name={`${p}-source`} checked={v.source === 'manual'} onChange={() => set('source')('manual')} />
          <label for={`${p}-src-manual`}>Set by hand</label>
        </div>
      </fieldset>
      {v.source === 'monitors' ? (
        <MonitorPicker idPrefix={p} monitors={props.monitors} selected={v.monitor_ids} onChange={set('monitor_ids')} error={err('monitor_ids')} />
      ) : (
        <SelectField
          name={name('manual_status')}
          label="Status"
          value={v.manual_status}
          options={COMPONENT_STATUSES}
          onChange={(s) => set('manual_status')(s as ComponentStatus)}
          error={err('manual_status') ?? err('monitor_ids')}
        />
      )}
      <CheckField name={name('showcase')} label="Show its 90-day uptime bars" checked={v.showcase} onChange={set('showcase')} error={err('showcase')} />
      <CheckField name={name('only_show_if_degraded')} label="Show it only while it is not operational" checked={v.only_show_if_degraded} onChange={set('only_show_if_degraded')} error={err('only_show_if_degraded')} />
      <div class="form-actions">
        <button class="button button-primary" type="submit" disabled={busy}>
          {props.submitLabel}
        </button>
        {props.onCancel && (
          <button class="button button-secondary" type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
