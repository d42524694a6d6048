//! What happens after a successful sign-in: on the root domain, hand the
//! session over to the organisation's own host (whose cookies the root domain
//! cannot set); on a tenant host, go where the user was going.

import { ApiError, api, rawRequest } from '../api';
import { navigate } from '../router/history';
import { loadMe } from '../app/session';
import { safeNext } from '../router/match';
import type { SessionBody } from '../api/models';

let siteTenant: Promise<boolean> | null = null;

/** True when this page was loaded from an organisation's host. */
export function onTenantHost(): Promise<boolean> {
  if (!siteTenant) {
    siteTenant = api
      .get('/api/site', { noAuthRetry: true })
      .then((s) => Boolean(s.tenant))
      .catch(() => false);
  }
  return siteTenant;
}

/** Adds where to go after the hand-over to the URL's fragment (never sent to a server). */
export function withNext(url: string, next: string): string {
  if (next === '/monitors') return url;
  const sep = url.includes('#') ? '&' : '#';
  return `${url}${sep}next=${encodeURIComponent(next)}`;
}

/** Finishes a sign-in whose body says `signed_in`. */
export async function afterSignIn(body: SessionBody, next: string | null): Promise<void> {
  const dest = safeNext(next);
  if (body.organization && !(await onTenantHost())) {
    try {
      const res = await rawRequest<{ url: string }>('POST', '/api/auth/handover', {
        body: { organization_id: body.organization.id },
        noAuthRetry: true,
      });
      if (res && typeof res.url === 'string' && /^https?:\/\//.test(res.url)) {
        window.location.replace(withNext(res.url, dest));
        return;
      }
    } catch (e) {
      // Without the hand-over API (older server), stay on this host, signed in.
      if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 405)) throw e;
    }
  }
  await loadMe(true);
  navigate(dest, { replace: true });
}

/** Switches the signed-in user to another of their organisations (on its own host). */
export async function switchOrganization(organizationId: string): Promise<void> {
  try {
    const res = await rawRequest<{ url: string }>('POST', '/api/auth/handover', { body: { organization_id: organizationId } });
    if (res && typeof res.url === 'string' && /^https?:\/\//.test(res.url)) {
      window.location.replace(res.url);
      return;
    }
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 405)) throw e;
  }
  // Without the hand-over API: sign in again and pick the organisation.
  navigate('/login', { replace: true });
}
