//! `/status-pages/:id/incidents/:incidentId`: one incident or maintenance:
//! its updates, posting an update, resolving, changing or deleting it.

import { useEffect, useState } from 'preact/hooks';
import { api, type Schemas } from '../api';
import type { PageProps } from '../app/pages';
import { navigate } from '../router/history';
import { ErrorNotice, Field, Loading, Notice, SelectField, TextAreaField } from '../ui/components';
import { dateTime, duration } from '../ui/format';
import { useAsync } from '../ui/useAsync';
import { EditorFrame, useCanWrite, usePage } from './Editor';
import { errorFor, formError, incidentPatch, patchValues, type Component, type IncidentValues, type PublicIncident } from './forms';
import { Badge, ComponentChecklist } from './IncidentParts';
import { INCIDENT_IMPACTS, UPDATE_STATUSES, finalStatus, impactLabel, updateStatusLabel, type Impact } from './labels';
import { editorPath } from './links';
import { pageOrder } from './order';

/** The status an update most likely sets next (the one after the current). */
export function nextStatus(i: Pick<PublicIncident, 'kind' | 'status'>): string {
  const order = UPDATE_STATUSES[i.kind].map(([s]) => s);
  const at = order.indexOf(i.status);
  return order[Math.min(order.length - 1, at + 1)] ?? order[0] ?? '';
}

/** What the one-click resolve says. */
export function resolveText(kind: PublicIncident['kind']): string {
  return kind === 'incident' ? 'This incident has been resolved.' : 'The scheduled maintenance has been completed.';
}

export default function IncidentDetail({ params }: PageProps) {
  const id = params.id ?? '';
  const incidentId = params.incidentId ?? '';
  const page = usePage(id);
  const incident = useAsync((signal) => api.get('/api/status-pages/{id}/incidents/{incident_id}', { params: { id, incident_id: incidentId }, signal }), [id, incidentId]);
  const comps = useAsync((signal) => api.get('/api/status-pages/{id}/components', { params: { id }, signal }), [id]);
  const groups = useAsync((signal) => api.get('/api/status-pages/{id}/groups', { params: { id }, signal }), [id]);
  const canWrite = useCanWrite();
  const [editing, setEditing] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const i = incident.data;
  const components = pageOrder(groups.data ?? [], comps.data ?? []);
  const names = new Map(components.map((c) => [c.id, c.name]));
  const tab = i?.kind === 'maintenance' ? 'maintenance' : 'incidents';

  async function remove() {
    if (!i || !window.confirm(`Delete "${i.title}" with all its updates? It disappears from the public page.`)) return;
    setError(null);
    try {
      await api.del('/api/status-pages/{id}/incidents/{incident_id}', { params: { id, incident_id: i.id } });
      navigate(editorPath(id, tab));
    } catch (x) {
      setError(x);
    }
  }

  return (
    <EditorFrame page={page} tab={tab}>
      <p class="breadcrumb">
        <a href={editorPath(id, tab)}>{tab === 'incidents' ? 'All incidents' : 'All maintenance'}</a>
      </p>
      <ErrorNotice error={incident.error} />
      {incident.loading && !i && <Loading />}
      {i && (
        <article class="incident-detail" aria-labelledby="incident-title">
          <h2 id="incident-title" class="detail-title">
            {i.title}
          </h2>
          <p class="badges">
            <Badge value={i.resolved_at ? i.status : i.impact === 'none' ? 'pending' : i.impact} label={updateStatusLabel(i.status)} />{' '}
            {i.kind === 'incident' && <span class="muted">{impactLabel(i.impact)} impact</span>}
          </p>
          <dl class="facts">
            {i.kind === 'maintenance' ? (
              <>
                <div>
                  <dt>Starts</dt>
                  <dd>{dateTime(i.scheduled_for)}</dd>
                </div>
                <div>
                  <dt>Ends</dt>
                  <dd>{dateTime(i.scheduled_until)}</dd>
                </div>
              </>
            ) : (
              <div>
                <dt>Started</dt>
                <dd>{dateTime(i.started_at)}</dd>
              </div>
            )}
            <div>
              <dt>{i.kind === 'incident' ? 'Resolved' : 'Completed'}</dt>
              <dd>{i.resolved_at ? `${dateTime(i.resolved_at)} (after ${duration(i.resolved_at - i.started_at)})` : 'Not yet'}</dd>
            </div>
            <div>
              <dt>Affected components</dt>
              <dd>{i.component_ids.length ? i.component_ids.map((c) => names.get(c) ?? 'a removed component').join(', ') : 'None'}</dd>
            </div>
            {i.monitor_incident_id && (
              <div>
                <dt>Published from</dt>
                <dd>a monitor incident</dd>
              </div>
            )}
          </dl>
          {message && <Notice kind="success">{message}</Notice>}
          <ErrorNotice error={formError(error, [])} />
          {canWrite && (
            <PostUpdate
              incident={i}
              onDone={(next, words) => {
                incident.set(next);
                setMessage(words);
              }}
            />
          )}
          <h3>Updates</h3>
          <ol class="timeline">
            {i.updates.map((u) => (
              <li key={u.id} class="timeline-item">
                <div class="timeline-head">
                  <strong>{updateStatusLabel(u.status)}</strong> <span class="muted small">{dateTime(u.created_at)}</span>
                </div>
                <p class="timeline-body">{u.body}</p>
              </li>
            ))}
          </ol>
          {canWrite && (
            <>
              <h3>Details</h3>
              {editing ? (
                <EditIncident
                  incident={i}
                  components={components}
                  onCancel={() => setEditing(false)}
                  onDone={(next) => {
                    incident.set(next);
                    setEditing(false);
                    setMessage('Saved.');
                  }}
                />
              ) : (
                <div class="form-actions">
                  <button type="button" class="button button-secondary" onClick={() => setEditing(true)}>
                    Change title, impact or components
                  </button>
                  <button type="button" class="button button-danger" onClick={() => void remove()}>
                    Delete {i.kind === 'incident' ? 'incident' : 'maintenance'}
                  </button>
                </div>
              )}
            </>
          )}
        </article>
      )}
    </EditorFrame>
  );
}

function PostUpdate({ incident, onDone }: { incident: PublicIncident; onDone: (i: PublicIncident, words: string) => void }) {
  const [status, setStatus] = useState(nextStatus(incident));
  const [body, setBody] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const closing = finalStatus(incident.kind);
  useEffect(() => setStatus(nextStatus(incident)), [incident.status]);

  async function send(s: string, text: string) {
    setError(null);
    setBusy(true);
    try {
      const next = await api.post('/api/status-pages/{id}/incidents/{incident_id}/updates', {
        params: { id: incident.page_id, incident_id: incident.id },
        body: { status: s as Schemas['NewUpdate']['status'], body: text.trim() },
      });
      setBody('');
      onDone(next, s === closing ? (incident.kind === 'incident' ? 'Incident resolved.' : 'Maintenance completed.') : 'Update posted.');
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card form-card" aria-labelledby="post-update">
      <h3 id="post-update" class="card-title">
        Post an update
      </h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void send(status, body);
        }}
        noValidate
      >
        <ErrorNotice error={formError(error, ['status', 'body'])} />
        <SelectField name="update-status" label="Status" value={status} options={UPDATE_STATUSES[incident.kind]} onChange={setStatus} error={errorFor(error, 'status')} />
        <TextAreaField name="update-body" label="Message" required rows={4} value={body} onInput={setBody} error={errorFor(error, 'body')} />
        <div class="form-actions">
          <button class="button button-primary" type="submit" disabled={busy}>
            Post update
          </button>
          {!incident.resolved_at && (
            <button type="button" class="button button-secondary" disabled={busy} onClick={() => void send(closing, body.trim() || resolveText(incident.kind))}>
              {incident.kind === 'incident' ? 'Resolve incident' : 'Mark as completed'}
            </button>
          )}
        </div>
        {!incident.resolved_at && <p class="field-hint">Resolving posts your message, or "{resolveText(incident.kind)}" when it is empty.</p>}
      </form>
    </section>
  );
}

const EDIT_FIELDS = ['title', 'impact', 'component_ids', 'scheduled_for', 'scheduled_until'] as const;

function EditIncident({ incident, components, onDone, onCancel }: { incident: PublicIncident; components: readonly Component[]; onDone: (i: PublicIncident) => void; onCancel: () => void }) {
  const [v, setV] = useState<IncidentValues>(patchValues(incident));
  const [error, setError] = useState<unknown>(null);
  const set = <K extends keyof IncidentValues>(k: K) => (x: IncidentValues[K]) => setV((old) => ({ ...old, [k]: x }));
  const err = (f: string) => errorFor(error, f);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      onDone(await api.patch('/api/status-pages/{id}/incidents/{incident_id}', { params: { id: incident.page_id, incident_id: incident.id }, body: incidentPatch(v) }));
    } catch (x) {
      setError(x);
    }
  }

  return (
    <form class="incident-form" onSubmit={(e) => void submit(e)} noValidate>
      <ErrorNotice error={formError(error, EDIT_FIELDS)} />
      <Field name="edit-title" label="Title" required value={v.title} onInput={set('title')} error={err('title')} />
      {incident.kind === 'incident' ? (
        <SelectField name="edit-impact" label="Impact" value={v.impact} options={INCIDENT_IMPACTS} onChange={(x) => set('impact')(x as Impact)} error={err('impact')} />
      ) : (
        <div class="form-grid">
          <Field name="edit-scheduled_for" label="Starts" type="datetime-local" required value={v.scheduled_for} onInput={set('scheduled_for')} error={err('scheduled_for')} />
          <Field name="edit-scheduled_until" label="Ends" type="datetime-local" required value={v.scheduled_until} onInput={set('scheduled_until')} error={err('scheduled_until')} />
        </div>
      )}
      <ComponentChecklist idPrefix="edit" components={components} selected={v.component_ids} onChange={set('component_ids')} error={err('component_ids')} />
      <div class="form-actions">
        <button class="button button-primary" type="submit">
          Save changes
        </button>
        <button class="button button-secondary" type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
