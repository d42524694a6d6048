//! `/status-pages`: the organisation's public status pages, and a new one.

import { useState } from 'preact/hooks';
import { api } from '../api';
import { navigate } from '../router/history';
import { ErrorNotice, Field, Loading, PageHeader } from '../ui/components';
import { dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';
import { PublicLink, useCanWrite, useSubdomain } from './Editor';
import { errorFor, formError } from './forms';
import { editorPath } from './links';

export default function StatusPages() {
  const pages = useAsync((signal) => api.get('/api/status-pages', { signal }), []);
  const canWrite = useCanWrite();
  const subdomain = useSubdomain();
  const [title, setTitle] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function create(e: Event) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const page = await api.post('/api/status-pages', { body: { title: title.trim() } });
      navigate(editorPath(page.id, 'components'));
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  }

  const list = pages.data ?? [];
  return (
    <section>
      <PageHeader title="Status pages" />
      <p>Tell your customers how your services are doing: components that follow your monitors, and incidents and maintenance you write.</p>
      <ErrorNotice error={pages.error} />
      {pages.loading && !pages.data && <Loading />}
      {pages.data && list.length === 0 && (
        <div class="empty">
          <p>
            <strong>No status page yet.</strong>
          </p>
          <p class="muted">Your first page is served at /status/ of your organisation's address.</p>
        </div>
      )}
      {list.length > 0 && (
        <ul class="cards">
          {list.map((p) => (
            <li key={p.id} class="card" data-page-id={p.id}>
              <h2 class="card-title">
                <a href={editorPath(p.id)}>{p.title}</a>
              </h2>
              <p class="card-meta">
                {p.is_default && <span class="badge badge-up">Default page</span>} {p.hostname && <code>{p.hostname}</code>}
              </p>
              {p.description && <p class="muted clamp">{p.description}</p>}
              <p class="muted small">Changed {dateTime(p.updated_at)}</p>
              <div class="card-actions">
                <a class="button button-secondary" href={editorPath(p.id, 'components')}>
                  Edit<span class="visually-hidden"> {p.title}</span>
                </a>
                <PublicLink page={p} subdomain={subdomain} />
              </div>
            </li>
          ))}
        </ul>
      )}
      {canWrite && (
        <>
          <h2>New status page</h2>
          <form class="inline-form" onSubmit={(e) => void create(e)} noValidate>
            <ErrorNotice error={formError(error, ['title'])} />
            <Field name="title" label="Title" required value={title} onInput={setTitle} hint="e.g. Acme Status" error={errorFor(error, 'title')} />
            <button class="button button-primary" type="submit" disabled={busy}>
              Create status page
            </button>
          </form>
        </>
      )}
    </section>
  );
}
