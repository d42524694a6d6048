//! Where a status page is public: `/status/` of the organisation's own
//! subdomain for the default page, `/` of its custom domain when it has one.

import type { StatusPage } from './forms';

/** The scheme and port visitors use: those of this app (the same edge serves both). */
export interface Origin {
  protocol: string;
  port: string;
}

function base(host: string, at: Origin): string {
  const port = at.port && !((at.protocol === 'https:' && at.port === '443') || (at.protocol === 'http:' && at.port === '80')) ? `:${at.port}` : '';
  return `${at.protocol}//${host}${port}`;
}

/**
 * The public addresses of `page`, best first: its custom domain, then (for
 * the default page) `/status/` of `subdomain`. Empty when the page is not
 * public yet (neither default nor on a domain).
 */
export function publicUrls(page: Pick<StatusPage, 'is_default' | 'hostname'>, subdomain: string | undefined, at: Origin): string[] {
  const urls: string[] = [];
  if (page.hostname) urls.push(`${base(page.hostname, at)}/`);
  if (page.is_default && subdomain) urls.push(`${base(subdomain, at)}/status/`);
  return urls;
}

/** The editor's address of a page's tab. */
export function editorPath(id: string, tab: '' | 'components' | 'incidents' | 'maintenance' | 'subscribers' = ''): string {
  const root = `/status-pages/${encodeURIComponent(id)}`;
  return tab ? `${root}/${tab}` : root;
}

/** The editor's address of one incident or maintenance. */
export function incidentPath(pageId: string, incidentId: string): string {
  return `${editorPath(pageId, 'incidents')}/${encodeURIComponent(incidentId)}`;
}
