//! `/settings/billing`: the plan, usage of each limit, the subscription's
//! state, what the plan paused and why; owners upgrade (Stripe Checkout) and
//! manage billing (Stripe's portal), admins read.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../app/pages';
import { useMe } from '../app/session';
import { ErrorNotice, Loading, Notice, PageHeader } from '../ui/components';
import { dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';
import { allowance, limitLabel, subscriptionText, upgradeTarget, usageRows, type BillingStatus } from './usage';

const PAUSED_LINKS: Record<string, (id: string) => string> = {
  monitor: (id) => `/monitors/${encodeURIComponent(id)}`,
  status_page: (id) => `/status-pages/${encodeURIComponent(id)}`,
  alert_channel: () => '/alerts',
  custom_domain: () => '/settings/domains',
};
const PAUSED_KIND: Record<string, string> = { monitor: 'Monitor', status_page: 'Status page', alert_channel: 'Alert channel', custom_domain: 'Custom domain' };

/** How long the page keeps re-reading the plan after Stripe Checkout returned. */
const AFTER_CHECKOUT_MS = 60_000;

export default function Billing({ query }: PageProps) {
  const billing = useAsync((signal) => api.get('/api/billing', { signal }), []);
  const me = useMe();
  const isOwner = me?.organization?.role === 'owner';
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const checkout = query.get('checkout');
  const b = billing.data;

  // Back from Stripe Checkout: the plan changes when Stripe's webhook arrives, so read it again for a while.
  useEffect(() => {
    if (checkout !== 'success') return;
    const started = Date.now();
    const t = window.setInterval(() => {
      if (Date.now() - started > AFTER_CHECKOUT_MS) window.clearInterval(t);
      else billing.reload();
    }, 5000);
    return () => window.clearInterval(t);
  }, [checkout]);

  async function go(action: () => Promise<{ url: string }>) {
    setError(null);
    setBusy(true);
    try {
      const { url } = await action();
      window.location.assign(url);
    } catch (x) {
      setError(x);
      setBusy(false);
    }
  }

  const target = b ? upgradeTarget(b) : null;
  return (
    <section>
      <PageHeader title="Billing" />
      {checkout === 'success' && (
        <Notice kind="success">Thank you! Your payment went through. The plan changes here as soon as Stripe confirms it, usually within a minute.</Notice>
      )}
      {checkout === 'canceled' && <Notice>Checkout was cancelled; nothing changed.</Notice>}
      <ErrorNotice error={billing.error} />
      <ErrorNotice error={error} />
      {billing.loading && !b && <Loading />}
      {b && !b.enabled && <Notice>This server does not sell plans: nothing is limited.</Notice>}
      {b && b.enabled && (
        <>
          {b.notice && (
            <div class="notice notice-warning" role="alert">
              {b.notice}
            </div>
          )}
          <div class="card plan-card">
            <h2 class="card-title">
              {b.plan_name} plan {b.complimentary && <span class="badge badge-up">Complimentary</span>}
            </h2>
            <p>{subscriptionText(b, dateTime) ?? (b.plan === 'free' ? 'No subscription: the Free plan costs nothing.' : b.complimentary ? 'Granted by StatusWatch; no payment is needed.' : '')}</p>
            {isOwner ? (
              <div class="card-actions">
                {target && (
                  <button type="button" class="button button-primary" disabled={busy} onClick={() => void go(() => api.post('/api/billing/checkout', { body: { plan: target.name } }))}>
                    Upgrade to {target.display_name}
                  </button>
                )}
                {b.subscription_status && (
                  <button type="button" class="button button-secondary" disabled={busy} onClick={() => void go(() => api.post('/api/billing/portal'))}>
                    Manage billing
                  </button>
                )}
              </div>
            ) : (
              <p class="muted">Only the organisation's owner can change the plan or the payment method.</p>
            )}
          </div>
          <h2>Usage</h2>
          <ul class="usage-list">
            {usageRows(b.limits).map((r) => (
              <li key={r.limit} class="usage-row" data-limit={r.limit}>
                <span class="usage-label" id={`usage-${r.limit}`}>
                  {r.label}
                </span>
                {r.bar ? (
                  <meter
                    aria-labelledby={`usage-${r.limit}`}
                    min={0}
                    max={r.bar.allowed}
                    value={Math.min(r.bar.used, r.bar.allowed)}
                    low={r.bar.allowed * 0.8}
                    high={r.bar.allowed - 0.001}
                    optimum={0}
                  >
                    {r.text}
                  </meter>
                ) : (
                  <span class="usage-bar-none" />
                )}
                <span class="usage-value">{r.text}</span>
              </li>
            ))}
          </ul>
          {b.paused.length > 0 && (
            <>
              <h2>Paused by the plan</h2>
              <p class="muted">Nothing was deleted: these resume when the plan allows them again.</p>
              <ul class="incidents">
                {b.paused.map((p) => (
                  <li key={`${p.kind}-${p.id}`} class="incident incident-open">
                    <strong>{PAUSED_KIND[p.kind] ?? p.kind}</strong> <a href={(PAUSED_LINKS[p.kind] ?? (() => '#'))(p.id)}>{p.name}</a>
                    <div class="incident-cause">{p.reason}</div>
                  </li>
                ))}
              </ul>
            </>
          )}
          {b.plans.length > 1 && <PlanTable status={b} />}
        </>
      )}
    </section>
  );
}

/** Every plan side by side. */
function PlanTable({ status }: { status: BillingStatus }) {
  const keys = Object.keys(status.plans[0]?.limits ?? {}) as (keyof BillingStatus['plans'][number]['limits'])[];
  return (
    <>
      <h2>Plans</h2>
      <div class="table-wrap">
        <table class="plans">
          <thead>
            <tr>
              <th scope="col">Limit</th>
              {status.plans.map((p) => (
                <th scope="col" key={p.name}>
                  {p.display_name}
                  {p.name === status.plan && <span class="muted small"> (yours)</span>}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k}>
                <th scope="row">{limitLabel(k)}</th>
                {status.plans.map((p) => (
                  <td key={p.name}>{allowance(k, p.limits[k])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
