//! The frame of signed-in pages: navigation, organisation, live status, logout.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { clearMe, loadMe, useMe } from './session';
import { navigate } from '../router/history';
import { stopEvents, subscribeStatus, type StreamStatus } from '../live/stream';
import { ErrorNotice, Loading } from '../ui/components';
import { switchOrganization } from '../auth/signin';

const NAV: readonly (readonly [string, string])[] = [
  ['/monitors', 'Monitors'],
  ['/incidents', 'Incidents'],
  ['/status-pages', 'Status pages'],
  ['/maintenance', 'Maintenance'],
  ['/alerts', 'Alert channels'],
  ['/alerts/deliveries', 'Delivery log'],
  ['/settings/members', 'Members'],
  ['/settings/api-keys', 'API keys'],
  ['/settings/domains', 'Domains'],
];
/** Nav entries that stay current on their sub-pages (a monitor, a status page's tabs). */
const SECTIONS = new Set(['/monitors', '/status-pages']);
/** Billing is read by admins and owners (the API refuses the others). */
const BILLING_NAV = ['/settings/billing', 'Billing'] as const;
const ADMIN_NAV: readonly (readonly [string, string])[] = [
  ['/platform/tenants', 'Tenants'],
  ['/platform/audit-log', 'Audit log'],
];

/** Asks an unverified user to verify, with a button to mail the link again. */
function VerifyBanner() {
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function resend() {
    setError(null);
    try {
      await api.post('/api/auth/verify-email/resend');
      setSent(true);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <div class="notice notice-info verify-banner" role="status">
      {sent ? (
        'A new verification link is on its way. Check your inbox.'
      ) : (
        <>
          Please verify your email address with the link we mailed you.{' '}
          <button type="button" class="button button-secondary" onClick={() => void resend()}>
            Send the link again
          </button>
        </>
      )}
      <ErrorNotice error={error} />
    </div>
  );
}

function LiveStatus() {
  const [status, setStatus] = useState<StreamStatus>('offline');
  useEffect(() => subscribeStatus(setStatus), []);
  const words = { live: 'Live', connecting: 'Connecting…', offline: 'Not live' }[status];
  return (
    <span class={`live live-${status}`} role="status" aria-live="polite">
      <span class="live-dot" aria-hidden="true" />
      {words}
    </span>
  );
}

export function Shell({ path, superuser, children }: { path: string; superuser: boolean; children: ComponentChildren }) {
  const me = useMe();
  const [menuOpen, setMenuOpen] = useState(false);
  const [logoutError, setLogoutError] = useState<unknown>(null);

  useEffect(() => {
    void loadMe();
  }, []);
  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setMenuOpen(false);
        document.querySelector<HTMLElement>('.menu-toggle')?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  async function logout() {
    try {
      await api.post('/api/auth/logout', { noAuthRetry: true });
    } catch (e) {
      // Already signed out is fine; anything else is shown.
      if (!(e instanceof ApiError && e.status === 401)) {
        setLogoutError(e);
        return;
      }
    }
    stopEvents();
    clearMe();
    navigate('/login', { replace: true });
  }

  // Organisation pages render while the session loads, so their data
  // requests run alongside /api/me instead of after it.
  let body: ComponentChildren = children;
  if (me === undefined && superuser) body = <Loading what="Signing you in" />;
  else if (me === null) body = <Loading what="Going to the login page" />;
  else if (me && superuser && !me.user.is_superuser)
    body = <ErrorNotice error={new Error('this page is for platform administrators only')} />;
  else if (me && !superuser && !me.organization)
    body = (
      <div class="notice notice-warning" role="alert">
        This session has no organisation. <a href="/login">Log in again</a> and choose one.
      </div>
    );

  const role = me?.organization?.role;
  const tenantLinks = role === 'owner' || role === 'admin' ? [...NAV, BILLING_NAV] : NAV;
  const links = me?.user.is_superuser ? [...tenantLinks, ...ADMIN_NAV] : tenantLinks;
  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to main content
      </a>
      <header class="app-header">
        <a class="brand" href="/monitors">
          <img class="brand-logo" src="/logo.svg" alt="" width="28" height="28" />
          <span>StatusWatch</span>
        </a>
        <span class="org-name">{me?.organization?.name ?? ''}</span>
        <LiveStatus />
        <button
          type="button"
          class="button button-secondary menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="app-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
      </header>
      <div class="app-body">
        <nav id="app-nav" class={`app-nav${menuOpen ? ' open' : ''}`} aria-label="Main">
          <ul>
            {links.map(([href, text]) => (
              <li key={href}>
                <a href={href} aria-current={path === href || (SECTIONS.has(href) && path.startsWith(`${href}/`)) ? 'page' : undefined}>
                  {text}
                </a>
              </li>
            ))}
          </ul>
          <div class="nav-user">
            {me && me.organizations.length > 1 && (
              <div class="field">
                <label for="org-switch">Organisation</label>
                <select
                  id="org-switch"
                  value={me.organization?.id ?? ''}
                  onChange={(e) => {
                    const id = e.currentTarget.value;
                    if (id && id !== me.organization?.id) switchOrganization(id).catch(setLogoutError);
                  }}
                >
                  {me.organizations.map((o) => (
                    <option key={o.id} value={o.id}>
                      {o.name}
                    </option>
                  ))}
                </select>
              </div>
            )}
            <span class="nav-email">{me?.user.email}</span>
            <button type="button" class="button button-secondary" onClick={() => void logout()}>
              Log out
            </button>
            <ErrorNotice error={logoutError} />
          </div>
        </nav>
        <main id="main" tabIndex={-1} class="app-main">
          {me && !me.user.email_verified && <VerifyBanner />}
          {body}
        </main>
      </div>
    </div>
  );
}
