//! `/status-pages/:id/subscribers`: who hears about the page's incidents and
//! maintenance (email and webhook subscribers), removing one, the CSV export.

import { useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../app/pages';
import { ErrorNotice, Loading, Notice } from '../ui/components';
import { dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';
import { EditorFrame, useIsAdmin, usePage } from './Editor';
import { formError, type Subscriber } from './forms';
import { byPosition } from './order';

/** Rows per page of the list. */
const PAGE = 100;

const STATUS_TONE: Record<string, string> = { active: 'up', pending: 'pending', unsubscribed: 'paused' };
const STATUS_WORDS: Record<string, string> = { active: 'Active', pending: 'Not confirmed', unsubscribed: 'Unsubscribed' };

export default function Subscribers({ params }: PageProps) {
  const id = params.id ?? '';
  const page = usePage(id);
  const [offset, setOffset] = useState(0);
  const subs = useAsync((signal) => api.get('/api/status-pages/{id}/subscribers', { params: { id }, query: { limit: PAGE, offset }, signal }), [id, offset]);
  const comps = useAsync((signal) => api.get('/api/status-pages/{id}/components', { params: { id }, signal }), [id]);
  const canWrite = useIsAdmin();
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const names = new Map(byPosition(comps.data ?? []).map((c) => [c.id, c.name]));
  const list = subs.data ?? [];

  async function remove(s: Subscriber) {
    if (!window.confirm(`Remove ${s.address}? They get no more updates from this page.`)) return;
    setError(null);
    setMessage(null);
    try {
      await api.del('/api/status-pages/{id}/subscribers/{subscriber_id}', { params: { id, subscriber_id: s.id } });
      subs.update((d) => d.filter((x) => x.id !== s.id));
      setMessage(`Removed ${s.address}.`);
    } catch (x) {
      setError(x);
    }
  }

  return (
    <EditorFrame page={page} tab="subscribers">
      <p>
        Visitors subscribe on the public page, by email (they confirm through a mailed link) or with a webhook. They hear about every incident and maintenance of the
        components they chose.
      </p>
      <p>
        <a class="button button-secondary" href={`/api/status-pages/${encodeURIComponent(id)}/subscribers.csv`} download="subscribers.csv">
          Export all as CSV
        </a>
      </p>
      {message && <Notice kind="success">{message}</Notice>}
      <ErrorNotice error={formError(error, [])} />
      <ErrorNotice error={subs.error} />
      {subs.loading && !subs.data && <Loading />}
      {subs.data && list.length === 0 && offset === 0 && <p class="muted">No subscribers yet.</p>}
      {list.length > 0 && (
        <div class="table-wrap">
          <table class="subscribers">
            <thead>
              <tr>
                <th scope="col">Subscriber</th>
                <th scope="col">Status</th>
                <th scope="col">Components</th>
                <th scope="col">Since</th>
                {canWrite && (
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id} data-subscriber-id={s.id}>
                  <td class="cell-address">
                    <span class="muted small">{s.kind === 'email' ? 'Email' : 'Webhook'}</span> <span class="address">{s.address}</span>
                  </td>
                  <td data-label="Status">
                    <span class={`badge badge-${STATUS_TONE[s.status] ?? 'pending'}`}>{STATUS_WORDS[s.status] ?? s.status}</span>
                  </td>
                  <td data-label="Components">{s.component_ids && s.component_ids.length > 0 ? s.component_ids.map((c) => names.get(c) ?? 'a removed component').join(', ') : 'All'}</td>
                  <td data-label="Since">{dateTime(s.confirmed_at ?? s.created_at)}</td>
                  {canWrite && (
                    <td>
                      <button type="button" class="button button-danger" onClick={() => void remove(s)}>
                        Remove<span class="visually-hidden"> {s.address}</span>
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(offset > 0 || list.length === PAGE) && (
        <div class="pager">
          <button type="button" class="button button-secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </button>
          <span>
            {offset + 1}–{offset + list.length}
          </span>
          <button type="button" class="button button-secondary" disabled={list.length < PAGE} onClick={() => setOffset(offset + PAGE)}>
            Next
          </button>
        </div>
      )}
    </EditorFrame>
  );
}
