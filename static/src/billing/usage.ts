//! The billing page's words and numbers: limits for people, how full each
//! one is, and the subscription's state (pure, unit-tested).

import type { Schemas } from '../api';

export type BillingStatus = Schemas['BillingStatus'];
export type LimitUsage = Schemas['LimitUsage'];

/** Counted limits, in the order shown, with their nouns. */
const COUNTED: Record<string, string> = {
  monitors: 'Monitors',
  status_pages: 'Status pages',
  custom_domains: 'Custom domains',
  alert_channels: 'Alert channels',
  members: 'Members (with pending invitations)',
  subscribers_per_page: 'Subscribers per status page',
};

/** A limit's label for people. */
export function limitLabel(limit: string): string {
  if (limit === 'min_interval_seconds') return 'Shortest check interval';
  if (limit === 'raw_retention_days') return 'Raw check results kept';
  return COUNTED[limit] ?? limit.replace(/_/g, ' ');
}

/** A limit's allowance in words ("10", "every 30 s", "30 days", "unlimited"). */
export function allowance(limit: string, allowed: number | null | undefined): string {
  if (allowed === null || allowed === undefined) return 'unlimited';
  if (limit === 'min_interval_seconds') return `every ${allowed} s`;
  if (limit === 'raw_retention_days') return `${allowed} days`;
  return String(allowed);
}

/** One row of the usage list. */
export interface UsageRow {
  limit: string;
  label: string;
  /** Used and allowed, for a bar; absent for settings (interval, retention) and per-page counts. */
  bar?: { used: number; allowed: number; percent: number; tone: 'up' | 'degraded' | 'down' };
  text: string;
}

/** The limits as rows: counted ones first (with a bar), then the settings. */
export function usageRows(limits: readonly LimitUsage[]): UsageRow[] {
  const order = [...Object.keys(COUNTED), 'min_interval_seconds', 'raw_retention_days'];
  const sorted = [...limits].sort((a, b) => {
    const ia = order.indexOf(a.limit);
    const ib = order.indexOf(b.limit);
    return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib);
  });
  return sorted.map((l) => {
    const label = limitLabel(l.limit);
    const used = l.used ?? null;
    const allowed = l.allowed ?? null;
    if (allowed === 0 && l.limit in COUNTED) {
      return { limit: l.limit, label, text: used ? `${used} (the plan includes none)` : 'Not in this plan' };
    }
    if (used !== null && allowed !== null && l.limit in COUNTED) {
      const percent = Math.min(100, Math.round((used / allowed) * 100));
      const tone = used > allowed || percent >= 100 ? 'down' : percent >= 80 ? 'degraded' : 'up';
      return { limit: l.limit, label, bar: { used, allowed, percent, tone }, text: `${used} of ${allowed}` };
    }
    if (used !== null && allowed === null) return { limit: l.limit, label, text: `${used} (unlimited)` };
    if (allowed !== null && l.limit in COUNTED) return { limit: l.limit, label, text: `up to ${allowed}` };
    return { limit: l.limit, label, text: allowance(l.limit, allowed) };
  });
}

/** The subscription in one sentence, or null without one. */
export function subscriptionText(b: Pick<BillingStatus, 'subscription_status' | 'cancel_at_period_end' | 'current_period_end' | 'grace_ends_at'>, date: (ms: number) => string): string | null {
  const end = b.current_period_end ? date(b.current_period_end) : null;
  switch (b.subscription_status) {
    case null:
    case undefined:
      return null;
    case 'active':
    case 'trialing':
      if (b.cancel_at_period_end) return end ? `Cancelled: it ends on ${end} and does not renew.` : 'Cancelled: it ends at the end of the period.';
      return end ? `Active; renews on ${end}.` : 'Active.';
    case 'past_due':
    case 'unpaid':
      return b.grace_ends_at
        ? `Payment failed. Stripe retries the card; update it before ${date(b.grace_ends_at)} or the organisation moves to the Free plan.`
        : 'Payment failed. Update the payment method to keep the plan.';
    case 'canceled':
      return 'Cancelled.';
    case 'incomplete':
    case 'incomplete_expired':
      return 'The first payment did not complete.';
    default:
      return `Stripe says: ${b.subscription_status.replace(/_/g, ' ')}.`;
  }
}

/** Whether to offer the upgrade: billing on, a paid plan exists, and the organisation is on Free. */
export function upgradeTarget(b: Pick<BillingStatus, 'enabled' | 'plan' | 'plans'>): Schemas['Plan'] | null {
  if (!b.enabled || b.plan !== 'free') return null;
  return b.plans.find((p) => p.name === 'pro') ?? b.plans.find((p) => p.name !== 'free') ?? null;
}
