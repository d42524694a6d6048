//! Which page each route of `routes.json` shows. Each page is its own chunk,
//! loaded on navigation; `scripts/budget.mjs` reads this table to measure
//! every route's initial JavaScript. A unit test checks it matches routes.json.

import type { ComponentType } from 'preact';

/** Props every page gets. */
export interface PageProps {
  params: Record<string, string>;
  query: URLSearchParams;
}

export type PageModule = { default: ComponentType<PageProps> };

/** Route → page loader, and whether the page needs a signed-in organisation. */
export interface PageEntry {
  load: () => Promise<PageModule>;
  /** `public`: no session needed; `tenant`: an organisation session; `superuser`: platform operator. */
  access: 'public' | 'tenant' | 'superuser';
}

export const pages: Record<string, PageEntry> = {
  '/': { access: 'public', load: () => import('../pages/Landing') },
  '/login': { access: 'public', load: () => import('../auth/Login') },
  '/signup': { access: 'public', load: () => import('../auth/Signup') },
  '/verify-email': { access: 'public', load: () => import('../auth/VerifyEmail') },
  '/forgot-password': { access: 'public', load: () => import('../auth/ForgotPassword') },
  '/reset-password': { access: 'public', load: () => import('../auth/ResetPassword') },
  '/accept-invite': { access: 'public', load: () => import('../auth/AcceptInvite') },
  '/auth/handover': { access: 'public', load: () => import('../auth/Handover') },
  '/monitors': { access: 'tenant', load: () => import('../monitors/Dashboard') },
  '/monitors/new': { access: 'tenant', load: () => import('../monitors/MonitorNew') },
  '/monitors/:id': { access: 'tenant', load: () => import('../monitors/MonitorDetail') },
  '/monitors/:id/edit': { access: 'tenant', load: () => import('../monitors/MonitorEdit') },
  '/incidents': { access: 'tenant', load: () => import('../incidents/Incidents') },
  '/maintenance': { access: 'tenant', load: () => import('../maintenance/Maintenance') },
  '/status-pages': { access: 'tenant', load: () => import('../statuspages/StatusPages') },
  '/status-pages/:id': { access: 'tenant', load: () => import('../statuspages/PageSettings') },
  '/status-pages/:id/components': { access: 'tenant', load: () => import('../statuspages/Components') },
  '/status-pages/:id/incidents': { access: 'tenant', load: () => import('../statuspages/PageIncidents') },
  '/status-pages/:id/incidents/:incidentId': { access: 'tenant', load: () => import('../statuspages/IncidentDetail') },
  '/status-pages/:id/maintenance': { access: 'tenant', load: () => import('../statuspages/PageMaintenance') },
  '/status-pages/:id/subscribers': { access: 'tenant', load: () => import('../statuspages/Subscribers') },
  '/alerts': { access: 'tenant', load: () => import('../alerts/Channels') },
  '/alerts/deliveries': { access: 'tenant', load: () => import('../alerts/Deliveries') },
  '/settings/members': { access: 'tenant', load: () => import('../org/Members') },
  '/settings/api-keys': { access: 'tenant', load: () => import('../org/ApiKeys') },
  '/settings/domains': { access: 'tenant', load: () => import('../org/Domains') },
  '/settings/billing': { access: 'tenant', load: () => import('../billing/Billing') },
  '/platform/tenants': { access: 'superuser', load: () => import('../admin/Tenants') },
  '/platform/audit-log': { access: 'superuser', load: () => import('../admin/AuditLog') },
};
