import { describe, expect, it } from 'vitest';
import { allowance, limitLabel, subscriptionText, upgradeTarget, usageRows } from './usage';

const date = (ms: number) => `D${ms}`;
const plans = [
  { name: 'free', display_name: 'Free', limits: {} as never },
  { name: 'pro', display_name: 'Pro', limits: {} as never },
];

describe('usage', () => {
  it('shows counted limits first with a bar, then the settings', () => {
    const rows = usageRows([
      { limit: 'raw_retention_days', allowed: 7, used: null },
      { limit: 'status_pages', allowed: 1, used: 1 },
      { limit: 'min_interval_seconds', allowed: 60, used: null },
      { limit: 'monitors', allowed: 10, used: 3 },
    ]);
    expect(rows.map((r) => r.limit)).toEqual(['monitors', 'status_pages', 'min_interval_seconds', 'raw_retention_days']);
    expect(rows[0]).toMatchObject({ text: '3 of 10', bar: { used: 3, allowed: 10, percent: 30, tone: 'up' } });
    expect(rows[1]?.bar).toMatchObject({ percent: 100, tone: 'down' });
    expect(rows[2]).toEqual({ limit: 'min_interval_seconds', label: 'Shortest check interval', text: 'every 60 s' });
    expect(rows[3]?.text).toBe('7 days');
  });

  it('warns from 80 %, caps the bar over the limit, and words a limit of none', () => {
    expect(usageRows([{ limit: 'monitors', allowed: 10, used: 8 }])[0]?.bar?.tone).toBe('degraded');
    expect(usageRows([{ limit: 'monitors', allowed: 10, used: 14 }])[0]?.bar).toMatchObject({ percent: 100, tone: 'down' });
    expect(usageRows([{ limit: 'custom_domains', allowed: 0, used: 0 }])[0]).toMatchObject({ text: 'Not in this plan' });
    expect(usageRows([{ limit: 'custom_domains', allowed: 0, used: 2 }])[0]?.bar).toBeUndefined();
    expect(usageRows([{ limit: 'monitors', allowed: null, used: 4 }])[0]?.text).toBe('4 (unlimited)');
    const perPage = usageRows([{ limit: 'subscribers_per_page', allowed: 100, used: null }])[0];
    expect(perPage?.text).toBe('up to 100');
    expect(perPage?.bar).toBeUndefined();
  });

  it('names limits and allowances for people', () => {
    expect(limitLabel('subscribers_per_page')).toBe('Subscribers per status page');
    expect(limitLabel('something_new')).toBe('something new');
    expect(allowance('monitors', null)).toBe('unlimited');
    expect(allowance('min_interval_seconds', 30)).toBe('every 30 s');
  });
});

describe('subscription', () => {
  const base = { subscription_status: 'active', cancel_at_period_end: false, current_period_end: 5, grace_ends_at: null };
  it('says when it renews, ends, or falls back to Free', () => {
    expect(subscriptionText(base, date)).toBe('Active; renews on D5.');
    expect(subscriptionText({ ...base, cancel_at_period_end: true }, date)).toBe('Cancelled: it ends on D5 and does not renew.');
    expect(subscriptionText({ ...base, subscription_status: 'past_due', grace_ends_at: 9 }, date)).toMatch(/before D9 or the organisation moves to the Free plan/);
    expect(subscriptionText({ ...base, subscription_status: null }, date)).toBeNull();
    expect(subscriptionText({ ...base, subscription_status: 'paused_by_x' }, date)).toBe('Stripe says: paused by x.');
  });

  it('offers the upgrade only on Free with billing on', () => {
    expect(upgradeTarget({ enabled: true, plan: 'free', plans })?.name).toBe('pro');
    expect(upgradeTarget({ enabled: true, plan: 'pro', plans })).toBeNull();
    expect(upgradeTarget({ enabled: false, plan: 'free', plans })).toBeNull();
    expect(upgradeTarget({ enabled: true, plan: 'free', plans: [plans[0]!] })).toBeNull();
  });
});
