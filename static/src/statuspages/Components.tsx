//! `/status-pages/:id/components`: the page's groups and components, their
//! order (move up / down), and adding or changing them.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { Monitor } from '../api/models';
import type { PageProps } from '../app/pages';
import { subscribeEvents } from '../live/stream';
import { ErrorNotice, Field, Loading, Notice, StateBadge } from '../ui/components';
import { useAsync } from '../ui/useAsync';
import { ComponentForm } from './ComponentForm';
import { EditorFrame, useCanWrite, usePage } from './Editor';
import { componentValues, errorFor, formError, type Component, type ComponentInput, type Group } from './forms';
import { COMPONENT_STATUSES, componentStatusLabel } from './labels';
import { byPosition, move, nextPosition, type PositionChange } from './order';
import { MoveButtons, focusAfterMove } from './MoveButtons';

export default function Components({ params }: PageProps) {
  const id = params.id ?? '';
  const page = usePage(id);
  const groups = useAsync((signal) => api.get('/api/status-pages/{id}/groups', { params: { id }, signal }), [id]);
  const comps = useAsync((signal) => api.get('/api/status-pages/{id}/components', { params: { id }, signal }), [id]);
  const monitors = useAsync((signal) => api.get('/api/monitors', { signal }), []);
  const canWrite = useCanWrite();
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [addTo, setAddTo] = useState<string>('');
  const [formKey, setFormKey] = useState(0);

  // Monitor states beside the components they drive follow the live stream.
  useEffect(
    () =>
      subscribeEvents((ev) => {
        if (ev.type === 'monitor.state') monitors.update((d) => d.map((m) => (m.id === ev.monitor_id ? { ...m, state: ev.state } : m)));
      }),
    [],
  );

  const orderedGroups = byPosition(groups.data ?? []);
  const all = comps.data ?? [];
  const inGroup = (gid: string | null) => byPosition(all.filter((c) => (c.group_id ?? null) === gid));
  const mons = monitors.data ?? [];
  const monitorById = new Map(mons.map((m) => [m.id, m]));

  async function run(action: () => Promise<unknown>, done: string | null) {
    setError(null);
    setMessage(null);
    try {
      await action();
      if (done) setMessage(done);
    } catch (x) {
      setError(x);
    }
  }

  /** Sends the position changes of one move; on failure the server's order comes back. */
  async function sendMoves(changes: PositionChange[], patch: (c: PositionChange) => Promise<unknown>, reload: () => void) {
    try {
      for (const c of changes) await patch(c);
    } catch (x) {
      setError(x);
      reload();
    }
  }

  function moveComponent(list: Component[], cid: string, delta: -1 | 1) {
    const { items, changes } = move(list, cid, delta);
    if (changes.length === 0) return;
    setError(null);
    const byId = new Map(items.map((c) => [c.id, c]));
    comps.update((d) => d.map((c) => byId.get(c.id) ?? c));
    focusAfterMove(`c-${cid}`, delta);
    void sendMoves(changes, (c) => api.patch('/api/status-pages/{id}/components/{component_id}', { params: { id, component_id: c.id }, body: { position: c.position } }), comps.reload);
  }

  function moveGroup(gid: string, delta: -1 | 1) {
    const { items, changes } = move(orderedGroups, gid, delta);
    if (changes.length === 0) return;
    setError(null);
    groups.set(items);
    focusAfterMove(`g-${gid}`, delta);
    void sendMoves(changes, (c) => api.patch('/api/status-pages/{id}/groups/{group_id}', { params: { id, group_id: c.id }, body: { position: c.position } }), groups.reload);
  }

  async function create(body: ComponentInput) {
    const c = await api.post('/api/status-pages/{id}/components', { params: { id }, body });
    comps.update((d) => [...d, c]);
    setMessage(`Added ${c.name}.`);
  }

  async function change(cid: string, body: ComponentInput) {
    const c = await api.patch('/api/status-pages/{id}/components/{component_id}', { params: { id, component_id: cid }, body });
    comps.update((d) => d.map((x) => (x.id === c.id ? c : x)));
    setEditing(null);
    setMessage(`Saved ${c.name}.`);
  }

  function setManual(c: Component, status: string) {
    void run(async () => {
      const next = await api.patch('/api/status-pages/{id}/components/{component_id}', {
        params: { id, component_id: c.id },
        body: { manual_status: status as NonNullable<Component['manual_status']> },
      });
      comps.update((d) => d.map((x) => (x.id === next.id ? next : x)));
    }, `${c.name} is now ${componentStatusLabel(status).toLowerCase()}.`);
  }

  function remove(c: Component) {
    if (!window.confirm(`Remove the component ${c.name} from this page?`)) return;
    void run(async () => {
      await api.del('/api/status-pages/{id}/components/{component_id}', { params: { id, component_id: c.id } });
      comps.update((d) => d.filter((x) => x.id !== c.id));
    }, `Removed ${c.name}.`);
  }

  function removeGroup(g: Group) {
    if (!window.confirm(`Remove the group ${g.name}? Its components stay on the page, without a group.`)) return;
    void run(async () => {
      await api.del('/api/status-pages/{id}/groups/{group_id}', { params: { id, group_id: g.id } });
      groups.reload();
      comps.reload();
    }, `Removed the group ${g.name}.`);
  }

  function startAdding(gid: string) {
    setAddTo(gid);
    setFormKey((k) => k + 1);
    window.setTimeout(() => document.getElementById('f-new-name')?.focus(), 0);
  }

  const rows = (list: Component[]) =>
    list.length === 0 ? (
      <p class="muted">No components here yet.</p>
    ) : (
      <ol class="order-list">
        {list.map((c, i) =>
          editing === c.id ? (
            <li key={c.id} class="order-item editing">
              <h3 class="item-title">Change {c.name}</h3>
              <ComponentForm
                idPrefix={`edit-${c.id}`}
                initial={componentValues(c)}
                groups={orderedGroups}
                monitors={mons}
                submitLabel="Save component"
                position={(gid) => (gid === (c.group_id ?? '') ? undefined : nextPosition(inGroup(gid || null)))}
                onSubmit={(body) => change(c.id, body)}
                onCancel={() => setEditing(null)}
              />
            </li>
          ) : (
            <li key={c.id} class="order-item" data-component-id={c.id}>
              <div class="item-main">
                <strong class="item-name">{c.name}</strong>
                {c.description && <span class="muted small"> {c.description}</span>}
                <ComponentSource c={c} monitors={monitorById} canWrite={canWrite} onManual={(s) => setManual(c, s)} />
              </div>
              {canWrite && (
                <div class="item-actions">
                  <MoveButtons idBase={`c-${c.id}`} name={c.name} first={i === 0} last={i === list.length - 1} onMove={(d) => moveComponent(list, c.id, d)} />
                  <button type="button" class="button button-secondary" onClick={() => setEditing(c.id)}>
                    Edit<span class="visually-hidden"> {c.name}</span>
                  </button>
                  <button type="button" class="button button-danger" onClick={() => remove(c)}>
                    Remove<span class="visually-hidden"> {c.name}</span>
                  </button>
                </div>
              )}
            </li>
          ),
        )}
      </ol>
    );

  const loading = (groups.loading && !groups.data) || (comps.loading && !comps.data);
  const ungrouped = inGroup(null);
  return (
    <EditorFrame page={page} tab="components">
      <p>Components are what your customers see: each follows monitors or a status you set by hand. Groups gather them under a heading.</p>
      {message && <Notice kind="success">{message}</Notice>}
      <ErrorNotice error={formError(error, [])} />
      <ErrorNotice error={groups.error ?? comps.error ?? monitors.error} />
      {loading && <Loading />}
      {!loading && (
        <>
          {orderedGroups.map((g, gi) => (
            <section key={g.id} class="group-block" aria-labelledby={`group-${g.id}`} data-group-id={g.id}>
              <div class="group-head">
                <h2 id={`group-${g.id}`}>{g.name}</h2>
                {canWrite && (
                  <div class="item-actions">
                    <MoveButtons idBase={`g-${g.id}`} name={`group ${g.name}`} first={gi === 0} last={gi === orderedGroups.length - 1} onMove={(d) => moveGroup(g.id, d)} />
                    <RenameGroup pageId={id} group={g} onDone={(ng) => groups.update((d) => d.map((x) => (x.id === ng.id ? ng : x)))} />
                    <button type="button" class="button button-danger" onClick={() => removeGroup(g)}>
                      Remove<span class="visually-hidden"> group {g.name}</span>
                    </button>
                  </div>
                )}
              </div>
              {rows(inGroup(g.id))}
              {canWrite && (
                <button type="button" class="button button-secondary add-here" onClick={() => startAdding(g.id)}>
                  Add a component to {g.name}
                </button>
              )}
            </section>
          ))}
          <section class="group-block group-none" aria-labelledby="group-none">
            <div class="group-head">
              <h2 id="group-none">{orderedGroups.length > 0 ? 'Not in a group' : 'Components'}</h2>
            </div>
            {rows(ungrouped)}
          </section>
          {canWrite && (
            <div class="editor-forms">
              <section class="card" aria-labelledby="add-component">
                <h2 id="add-component" class="card-title">
                  Add a component
                </h2>
                <ComponentForm
                  key={formKey}
                  idPrefix="new"
                  initial={componentValues(undefined, addTo)}
                  groups={orderedGroups}
                  monitors={mons}
                  submitLabel="Add component"
                  position={(gid) => nextPosition(inGroup(gid || null))}
                  onSubmit={create}
                />
              </section>
              <section class="card" aria-labelledby="add-group">
                <h2 id="add-group" class="card-title">
                  Add a group
                </h2>
                <AddGroup pageId={id} position={nextPosition(orderedGroups)} onDone={(g) => groups.update((d) => [...d, g])} />
              </section>
            </div>
          )}
        </>
      )}
    </EditorFrame>
  );
}

/** Where a component's status comes from; a manual one can be set right here. */
function ComponentSource({ c, monitors, canWrite, onManual }: { c: Component; monitors: ReadonlyMap<string, Monitor>; canWrite: boolean; onManual: (s: string) => void }) {
  if (c.manual_status) {
    const id = `manual-${c.id}`;
    return (
      <div class="item-source">
        <label for={id}>
          Set by hand<span class="visually-hidden">: status of {c.name}</span>
        </label>{' '}
        {canWrite ? (
          <select id={id} class="inline-select" value={c.manual_status} onChange={(e) => onManual(e.currentTarget.value)}>
            {COMPONENT_STATUSES.map(([s, label]) => (
              <option key={s} value={s}>
                {label}
              </option>
            ))}
          </select>
        ) : (
          <span id={id}>{componentStatusLabel(c.manual_status)}</span>
        )}
      </div>
    );
  }
  return (
    <div class="item-source">
      <span class="muted">Follows </span>
      {c.monitor_ids.length === 0 && <span class="muted">no monitor</span>}
      {c.monitor_ids.map((mid, i) => {
        const m = monitors.get(mid);
        return (
          <span key={mid} class="follows">
            {i > 0 && ', '}
            {m ? <a href={`/monitors/${encodeURIComponent(mid)}`}>{m.name}</a> : 'a monitor'} {m && <StateBadge state={m.state} />}
          </span>
        );
      })}
    </div>
  );
}

function AddGroup({ pageId, position, onDone }: { pageId: string; position: number; onDone: (g: Group) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      const g = await api.post('/api/status-pages/{id}/groups', { params: { id: pageId }, body: { name: name.trim(), position } });
      setName('');
      onDone(g);
    } catch (x) {
      setError(x);
    }
  }
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <ErrorNotice error={formError(error, ['name'])} />
      <Field name="group-name" label="Group name" required value={name} onInput={setName} hint="e.g. Europe, or Core services." error={errorFor(error, 'name')} />
      <button class="button button-primary" type="submit">
        Add group
      </button>
    </form>
  );
}

function RenameGroup({ pageId, group, onDone }: { pageId: string; group: Group; onDone: (g: Group) => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(group.name);
  const [error, setError] = useState<unknown>(null);
  if (!open) {
    return (
      <button
        type="button"
        class="button button-secondary"
        onClick={() => {
          setName(group.name);
          setOpen(true);
          window.setTimeout(() => document.getElementById(`f-rename-${group.id}`)?.focus(), 0);
        }}
      >
        Rename<span class="visually-hidden"> group {group.name}</span>
      </button>
    );
  }
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      onDone(await api.patch('/api/status-pages/{id}/groups/{group_id}', { params: { id: pageId, group_id: group.id }, body: { name: name.trim() } }));
      setOpen(false);
    } catch (x) {
      setError(x);
    }
  }
  return (
    <form class="rename-form" onSubmit={(e) => void submit(e)} noValidate>
      <ErrorNotice error={formError(error, ['name'])} />
      <Field name={`rename-${group.id}`} label={`New name of ${group.name}`} value={name} onInput={setName} error={errorFor(error, 'name')} />
      <button class="button button-primary" type="submit">
        Save
      </button>{' '}
      <button class="button button-secondary" type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}
