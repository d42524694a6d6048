//! The frame of every status-page editor tab: the page's title, its public
//! address, and the tabs. Plus the data every tab needs.

import type { ComponentChildren } from 'preact';
import { api } from '../api';
import { useMe } from '../app/session';
import { ErrorNotice, Loading } from '../ui/components';
import { useAsync, type Async } from '../ui/useAsync';
import type { StatusPage } from './forms';
import { editorPath, publicUrls } from './links';

export type Tab = '' | 'components' | 'incidents' | 'maintenance' | 'subscribers';

const TABS: readonly (readonly [Tab, string])[] = [
  ['', 'Settings'],
  ['components', 'Components'],
  ['incidents', 'Incidents'],
  ['maintenance', 'Maintenance'],
  ['subscribers', 'Subscribers'],
];

/** The page being edited. */
export function usePage(id: string): Async<StatusPage> {
  return useAsync((signal) => api.get('/api/status-pages/{id}', { params: { id }, signal }), [id]);
}

/** The organisation's domains (its own subdomain first). */
export function useDomains() {
  return useAsync((signal) => api.get('/api/domains', { signal }), []);
}

/** Members and above may change status pages; viewers read. */
export function useCanWrite(): boolean {
  const role = useMe()?.organization?.role;
  return role === 'member' || role === 'admin' || role === 'owner';
}

/** Admins and owners may remove subscribers. */
export function useIsAdmin(): boolean {
  const role = useMe()?.organization?.role;
  return role === 'admin' || role === 'owner';
}

/** The organisation's own subdomain (undefined while loading). */
export function useSubdomain(): string | undefined {
  const domains = useDomains();
  return (domains.data ?? []).find((d) => d.kind === 'subdomain')?.hostname;
}

/** "View public page" (opens a new tab), or why there is none yet. */
export function PublicLink({ page, subdomain }: { page: StatusPage; subdomain: string | undefined }) {
  const urls = publicUrls(page, subdomain, window.location);
  if (urls.length === 0) {
    return page.is_default ? null : <span class="muted">Not public yet: make it the default page or give it a custom domain.</span>;
  }
  return (
    <a class="button button-secondary" href={urls[0]} target="_blank" rel="noopener" data-external="">
      View public page<span class="visually-hidden"> of {page.title} (opens in a new tab)</span>
    </a>
  );
}

export function EditorFrame({ page, tab, children }: { page: Async<StatusPage>; tab: Tab; children: ComponentChildren }) {
  const p = page.data;
  const subdomain = useSubdomain();
  return (
    <section>
      <p class="breadcrumb">
        <a href="/status-pages">Status pages</a>
      </p>
      <div class="page-header">
        <h1>{p ? p.title : 'Status page'}</h1>
        {p && (
          <div class="page-actions">
            <PublicLink page={p} subdomain={subdomain} />
          </div>
        )}
      </div>
      {p && (
        <p class="muted page-meta">
          {p.is_default && <span class="badge badge-up">Default page</span>} {p.hostname && <code>{p.hostname}</code>}
        </p>
      )}
      <ErrorNotice error={page.error} />
      {page.loading && !p && <Loading />}
      {p && (
        <>
          <nav class="tabs" aria-label="Status page sections">
            <ul>
              {TABS.map(([t, label]) => (
                <li key={t}>
                  <a href={editorPath(p.id, t)} aria-current={t === tab ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {children}
        </>
      )}
    </section>
  );
}
