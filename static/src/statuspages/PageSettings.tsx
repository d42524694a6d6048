//! `/status-pages/:id`: a page's title, description, logo, custom domain and
//! whether it is the default page at `/status/`; deleting it.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../app/pages';
import { navigate } from '../router/history';
import { CheckField, ErrorNotice, Field, Notice, SelectField, TextAreaField } from '../ui/components';
import { EditorFrame, useCanWrite, useDomains, usePage } from './Editor';
import { errorFor, formError, pageInput, pageValues, type PageValues } from './forms';

const FIELDS = ['title', 'description', 'logo_url', 'domain_id', 'is_default'] as const;

export default function PageSettings({ params }: PageProps) {
  const id = params.id ?? '';
  const page = usePage(id);
  const domains = useDomains();
  const canWrite = useCanWrite();
  const [v, setV] = useState<PageValues>(pageValues());
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (page.data) setV(pageValues(page.data));
  }, [page.data?.id, page.data?.updated_at]);

  const set = <K extends keyof PageValues>(k: K) => (x: PageValues[K]) => {
    setSaved(false);
    setV((old) => ({ ...old, [k]: x }));
  };
  const custom = (domains.data ?? []).filter((d) => d.kind === 'custom');

  async function save(e: Event) {
    e.preventDefault();
    setError(null);
    setSaved(false);
    setBusy(true);
    try {
      page.set(await api.patch('/api/status-pages/{id}', { params: { id }, body: pageInput(v) }));
      setSaved(true);
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!page.data || !window.confirm(`Delete the status page "${page.data.title}" with its components and incidents? This cannot be undone.`)) return;
    setError(null);
    try {
      await api.del('/api/status-pages/{id}', { params: { id } });
      navigate('/status-pages');
    } catch (x) {
      setError(x);
    }
  }

  return (
    <EditorFrame page={page} tab="">
      <form class="settings-form" onSubmit={(e) => void save(e)} noValidate>
        {saved && <Notice kind="success">Saved. Visitors see the change within half a minute.</Notice>}
        <ErrorNotice error={formError(error, FIELDS)} />
        <fieldset disabled={!canWrite}>
          <legend>Page</legend>
          <Field name="title" label="Title" required value={v.title} onInput={set('title')} error={errorFor(error, 'title')} />
          <TextAreaField name="description" label="Description" value={v.description} onInput={set('description')} hint="Shown under the title. Up to 1,000 characters." error={errorFor(error, 'description')} />
          <Field name="logo_url" label="Logo URL" type="url" value={v.logo_url} onInput={set('logo_url')} hint="An https address of an image, shown instead of the title. Leave empty for none." error={errorFor(error, 'logo_url')} />
        </fieldset>
        <fieldset disabled={!canWrite}>
          <legend>Where it is served</legend>
          <CheckField
            name="is_default"
            label="Default page: served at /status/ of your organisation's address"
            checked={v.is_default}
            onChange={(c) => set('is_default')(c || (page.data?.is_default ?? false))}
            error={errorFor(error, 'is_default')}
          />
          {page.data?.is_default && <p class="field-hint hint-block">To move /status/ to another page, make that page the default.</p>}
          <SelectField
            name="domain_id"
            label="Custom domain"
            value={v.domain_id}
            options={[['', 'None'] as const, ...custom.map((d) => [d.id, d.verified_at ? d.hostname : `${d.hostname} (not verified yet)`] as const)]}
            onChange={set('domain_id')}
            error={errorFor(error, 'domain_id')}
          />
          <p class="field-hint">
            Serves this page at / of your own hostname. Add and verify domains in <a href="/settings/domains">Custom domains</a>.
          </p>
        </fieldset>
        {canWrite && (
          <button class="button button-primary" type="submit" disabled={busy}>
            Save changes
          </button>
        )}
      </form>
      {canWrite && (
        <>
          <h2>Delete this page</h2>
          <p class="muted">Its components, incidents and maintenance go with it.</p>
          <button type="button" class="button button-danger" onClick={() => void remove()}>
            Delete status page
          </button>
        </>
      )}
    </EditorFrame>
  );
}
