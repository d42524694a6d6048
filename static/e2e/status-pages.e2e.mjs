// End-to-end test of the status-page editor in Debian's Chromium against a
// real `statuswatch serve`: an owner creates a page, a group, a component
// bound to a monitor and one set by hand, reorders them, opens the public
// page at https://<slug>.localhost:<port>/status/ and sees them; posts a
// public incident with an update, sees it there, resolves it; schedules a
// maintenance; publishes a monitor's automatic incident with one click; a
// visitor subscribes, shows up in the subscriber list and is removed. With
// billing on, a second page hits the Free plan's limit (402, shown in words
// with a link to billing) and the owner starts Stripe Checkout (a local fake).
// axe-core checks each editor page; screenshots go to test-artifacts/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { atPath, capture, closeBrowser, failureReport, launchBrowser, newPage, problems, shots, watch } from './browser.mjs';
import { startFakeStripe, startServer, startSmtpSink, startTarget, stopAll, waitForLink } from './harness.mjs';

// The prober may take a while to pick up a new monitor on a busy machine.
const LIVE_TIMEOUT = 90_000;
// The edge caches public pages for 10 s (then serves stale while it revalidates).
const PUBLIC_TIMEOUT = 60_000;

let sink, target, server, stripe;

before(async () => {
  sink = await startSmtpSink();
  target = await startTarget();
  stripe = await startFakeStripe();
  // Billing on (Free allows one status page), against the local Stripe.
  server = await startServer(sink.port, {
    configToml: [
      '[billing]',
      'enabled = true',
      `stripe_api_base = "${stripe.base}"`,
      'stripe_publishable_key = "pk_test_e2e"',
      'stripe_secret_key = "sk_test_e2e"',
      'stripe_webhook_secret = "whsec_e2e"',
      '[billing.plans.pro]',
      'stripe_price_id = "price_e2e"',
      '',
    ].join('\n'),
  });
  await launchBrowser();
});

after(async () => {
  await closeBrowser();
  await stopAll();
});

const owner = { email: 'owner@status.example', password: 'status pages for everyone 1' };

test('an owner builds a status page and tells customers about incidents, in the browser', { timeout: 300_000 }, async () => {
  try {
    await flow();
  } catch (err) {
    await failureReport('failure-status', server);
    throw err;
  }
});

/** Reloads `pub` until `locator()` finds something (or, with `gone`, nothing). */
async function untilShown(pub, what, locator, timeoutMs = PUBLIC_TIMEOUT, { gone = false } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await locator().count();
    if (gone ? n === 0 : n > 0) return;
    if (Date.now() > deadline) throw new Error(`${pub.url()} never ${gone ? 'stopped showing' : 'showed'} ${what}:\n${await pub.locator('main').innerText().catch(() => '')}`);
    await pub.waitForTimeout(1500);
    await pub.reload();
  }
}

async function flow() {
  const { context, page } = await newPage();
  const edge = server.edge;

  // Sign up and verify the email (as in the main browser test).
  await page.goto(`${edge}/signup`);
  await page.getByLabel('Organisation name').fill('Status Co');
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(/\/monitors$/, { timeout: 20_000 });
  const app = new URL(page.url()).origin;
  assert.equal(new URL(app).hostname, 'status-co.localhost');
  await page.goto(await waitForLink(sink, owner.email, '/verify-email?token='));
  await page.getByText('Your email address is verified.').waitFor();

  // A monitor for the page to follow.
  await page.goto(`${app}/monitors/new`);
  await page.getByLabel('Name').fill('Checkout API');
  await page.getByLabel('URL').fill(target.url);
  await page.getByLabel('Check every (seconds)').fill('2');
  await page.getByLabel('Timeout (seconds)').fill('2');
  await page.getByLabel('Failed checks before down').fill('1');
  await page.getByRole('button', { name: 'Create monitor' }).click();
  await atPath(page, /^\/monitors\/(?!new$)[^/]+$/);

  // Status pages from the navigation: none yet, then a new one.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Status pages' }).click();
  await atPath(page, '/status-pages');
  await page.getByText('No status page yet.').waitFor();
  await page.getByRole('button', { name: 'Create status page' }).click();
  await page.locator('#f-title-err').waitFor();
  assert.equal(await page.locator('#f-title-err').innerText(), 'Title is required.');
  assert.equal(await page.getByLabel('Title').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Title').fill('Status Co status');
  await page.getByRole('button', { name: 'Create status page' }).click();
  await atPath(page, /^\/status-pages\/[^/]+\/components$/);
  const editor = new URL(page.url()).pathname.replace(/\/components$/, '');
  await page.getByRole('heading', { name: 'Status Co status', level: 1 }).waitFor();

  // A group, a component bound to the monitor in it, and two set by hand.
  await page.getByLabel('Group name').fill('Core services');
  await page.getByRole('button', { name: 'Add group' }).click();
  await page.getByRole('heading', { name: 'Core services', level: 2 }).waitFor();
  await page.getByRole('button', { name: 'Add a component to Core services' }).click();
  // The form takes focus in the task after the click (it must render first).
  await page
    .waitForFunction(() => document.activeElement?.id === 'f-new-name', null, { timeout: 2_000 })
    .catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-new-name', 'focus moves to the new component form');
  await page.getByLabel('Name', { exact: true }).fill('Checkout');
  assert.equal(await page.getByLabel('Group', { exact: true }).inputValue(), await page.locator('[data-group-id]').first().getAttribute('data-group-id'));
  // Monitors is the default source; adding without a monitor names the field.
  await page.getByRole('button', { name: 'Add component' }).click();
  await page.locator('#new-monitors-err').waitFor();
  await page.getByLabel(/^Checkout API/).check();
  await page.getByRole('button', { name: 'Add component' }).click();
  await page.getByText('Added Checkout.').waitFor();
  const group = page.locator('section.group-block').filter({ has: page.getByRole('heading', { name: 'Core services' }) });
  await group.locator('[data-component-id]').filter({ hasText: 'Checkout' }).getByText('Checkout API').waitFor();

  // By hand: the API's error for a missing name sits beside the field.
  await page.getByLabel('Set by hand', { exact: true }).check();
  await page.getByRole('button', { name: 'Add component' }).click();
  await page.locator('#f-new-name-err').waitFor();
  assert.equal(await page.locator('#f-new-name-err').innerText(), 'Name is required.');
  await page.getByLabel('Name', { exact: true }).fill('Website');
  await page.getByLabel('Group', { exact: true }).selectOption({ label: 'No group' });
  await page.getByLabel('Status', { exact: true }).selectOption('degraded_performance');
  await page.getByRole('button', { name: 'Add component' }).click();
  await page.getByText('Added Website.').waitFor();
  await page.getByLabel('Set by hand', { exact: true }).check();
  await page.getByLabel('Name', { exact: true }).fill('Docs');
  await page.getByLabel('Group', { exact: true }).selectOption({ label: 'No group' });
  await page.getByRole('button', { name: 'Add component' }).click();
  await page.getByText('Added Docs.').waitFor();

  // Reorder with the keyboard: Docs moves above Website, focus follows it.
  const ungrouped = page.locator('section.group-none [data-component-id] .item-name');
  assert.deepEqual(await ungrouped.allInnerTexts(), ['Website', 'Docs']);
  await page.getByRole('button', { name: 'Move Docs up' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  assert.deepEqual(await ungrouped.allInnerTexts(), ['Docs', 'Website']);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), '↓Move Docs down', 'focus stays on the moved item');
  // The order is stored: it survives a reload.
  await page.waitForTimeout(500);
  await page.reload();
  await ungrouped.first().waitFor();
  assert.deepEqual(await ungrouped.allInnerTexts(), ['Docs', 'Website']);
  // A manual status changes right in the list.
  await page.getByLabel('Set by hand: status of Website').selectOption('operational');
  await page.getByText('Website is now operational.').waitFor();
  await capture(page, 'status-page-components');

  // The public page, from the editor's link, shows the components in order.
  const [pub] = await Promise.all([context.waitForEvent('page'), page.getByRole('link', { name: /View public page/ }).click()]);
  watch(pub);
  await pub.waitForLoadState();
  assert.equal(pub.url(), `${app}/status/`);
  await untilShown(pub, 'the components', () => pub.getByText('Website'));
  await pub.getByRole('heading', { name: 'Status Co status', level: 1 }).waitFor();
  const shown = pub.locator('section[aria-labelledby="components"]');
  await shown.getByRole('heading', { name: 'Core services' }).waitFor();
  await shown.getByText('Checkout', { exact: true }).first().waitFor();
  const text = await shown.innerText();
  assert.ok(text.indexOf('Docs') < text.indexOf('Website'), 'Docs comes before Website');
  await pub.screenshot({ path: join(shots, 'public-status-page-1280.png'), fullPage: true });

  // A visitor subscribes on the public page for Checkout only, and confirms from the mail.
  await pub.getByLabel('Email address').fill('fan@example.com');
  await pub.locator('section[aria-labelledby="subscribe"]').getByLabel('Checkout').check();
  await pub.getByRole('button', { name: 'Subscribe' }).click();
  await pub.getByRole('heading', { name: 'Check your mail' }).waitFor();
  const confirm = await waitForLink(sink, 'fan@example.com', '/status/subscribe/confirm?token=');
  await pub.goto(confirm);
  await pub.getByRole('button', { name: 'Confirm subscription' }).click();
  await pub.getByRole('heading', { name: 'You are subscribed' }).waitFor();
  await pub.goto(`${app}/status/`);

  // The editor lists the subscriber, exports the list as CSV, and removes them.
  await page.getByRole('navigation', { name: 'Status page sections' }).getByRole('link', { name: 'Subscribers' }).click();
  await atPath(page, `${editor}/subscribers`);
  const fan = page.locator('tr[data-subscriber-id]').filter({ hasText: 'fan@example.com' });
  await fan.getByText('Active').waitFor();
  assert.match(await fan.innerText(), /Checkout/);
  const csvHref = await page.getByRole('link', { name: 'Export all as CSV' }).getAttribute('href');
  const csv = await page.evaluate((href) => fetch(href).then((r) => r.text()), csvHref);
  assert.match(csv.split('\n')[0], /^id,kind,address,status/);
  assert.match(csv, /fan@example\.com/);
  await capture(page, 'status-page-subscribers');
  page.once('dialog', (d) => void d.accept());
  await fan.getByRole('button', { name: /Remove/ }).click();
  await page.getByText('Removed fan@example.com.').waitFor();
  assert.equal(await fan.count(), 0);
  await page.getByText('No subscribers yet.').waitFor();

  // Settings: a bad logo URL is refused beside its field; a description is saved.
  await page.getByRole('navigation', { name: 'Status page sections' }).getByRole('link', { name: 'Settings' }).click();
  await atPath(page, editor);
  await page.getByLabel('Logo URL').fill('ftp://example.com/logo.png');
  await page.getByLabel('Description').fill('Live status of Status Co services.');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#f-logo_url-err').waitFor();
  assert.match(await page.locator('#f-logo_url-err').innerText(), /^Logo URL must be/);
  await page.getByLabel('Logo URL').fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Saved.', { exact: false }).waitFor();
  assert.equal(await page.getByLabel(/^Default page/).isChecked(), true, 'the first page is the default');
  await capture(page, 'status-page-settings');

  // A public incident with its first update.
  await page.getByRole('navigation', { name: 'Status page sections' }).getByRole('link', { name: 'Incidents' }).click();
  await atPath(page, `${editor}/incidents`);
  await page.getByText('No ongoing incidents').waitFor();
  await capture(page, 'status-page-incidents');
  await page.getByRole('button', { name: 'Publish incident' }).click();
  await page.locator('#f-new-incident-title-err').waitFor();
  await page.getByLabel('Title', { exact: true }).fill('Checkout errors');
  await page.getByLabel('Impact').selectOption('major');
  await page.getByLabel('Message').fill('We are looking into failed payments.');
  await page.getByLabel('Checkout', { exact: true }).check();
  await page.getByRole('button', { name: 'Publish incident' }).click();
  await atPath(page, /^\/status-pages\/[^/]+\/incidents\/[^/]+$/);
  await page.getByRole('heading', { name: 'Checkout errors', level: 2 }).waitFor();

  // Post an update.
  await page.getByLabel('Status', { exact: true }).selectOption('monitoring');
  await page.getByRole('button', { name: 'Post update' }).click();
  await page.locator('#f-update-body-err').waitFor();
  await page.getByLabel('Message').fill('A fix is out; we are watching payments.');
  await page.getByRole('button', { name: 'Post update' }).click();
  await page.getByText('Update posted.').waitFor();
  await page.locator('.timeline-item').filter({ hasText: 'A fix is out' }).getByText('Monitoring').waitFor();
  assert.equal(await page.locator('.timeline-item').count(), 2);
  await capture(page, 'status-page-incident');

  // The public page shows it as active, with the update.
  const active = () => pub.locator('section[aria-labelledby="active"]').filter({ hasText: 'Checkout errors' }).filter({ hasText: 'A fix is out' });
  await untilShown(pub, 'the incident and its update', active);

  // Resolve with one click; the public page moves it to the history.
  await page.getByRole('button', { name: 'Resolve incident' }).click();
  await page.getByText('Incident resolved.').waitFor();
  await page.locator('.timeline-item').first().getByText('Resolved', { exact: true }).waitFor();
  await untilShown(pub, 'the incident as active', () => pub.locator('section[aria-labelledby="active"]'), PUBLIC_TIMEOUT, { gone: true });
  await pub.locator('section[aria-labelledby="history"]').getByText('Checkout errors').first().waitFor();
  await pub.screenshot({ path: join(shots, 'public-status-page-resolved-1280.png'), fullPage: true });

  // Scheduled maintenance.
  await page.getByRole('navigation', { name: 'Status page sections' }).getByRole('link', { name: 'Maintenance' }).click();
  await atPath(page, `${editor}/maintenance`);
  await page.getByLabel('Title', { exact: true }).fill('Database upgrade');
  await page.getByLabel('Starts').fill('2030-01-15T09:00');
  await page.getByLabel('Ends').fill('2030-01-15T08:00');
  await page.getByLabel('Message').fill('Checkout may be slow for a few minutes.');
  await page.getByLabel('Checkout', { exact: true }).check();
  await page.getByRole('button', { name: 'Schedule maintenance' }).click();
  // Ending before it starts is refused beside a time field.
  await page.locator('#f-new-maintenance-scheduled_until-err, #f-new-maintenance-scheduled_for-err').first().waitFor();
  await page.getByLabel('Ends').fill('2030-01-15T10:00');
  await page.getByRole('button', { name: 'Schedule maintenance' }).click();
  await atPath(page, /^\/status-pages\/[^/]+\/incidents\/[^/]+$/);
  await page.getByRole('heading', { name: 'Database upgrade', level: 2 }).waitFor();
  await page.getByRole('link', { name: 'All maintenance' }).click();
  await page.locator('[data-public-incident-id]').filter({ hasText: 'Database upgrade' }).waitFor();
  await capture(page, 'status-page-maintenance');

  // The monitor goes down; its incident is published from the incidents page with one click.
  target.fail();
  await page.goto(`${app}/incidents`);
  const publish = page.getByRole('button', { name: /^Publish on Status Co status/ });
  // Reloaded rather than waited for live: this test is about publishing, not the event stream.
  await untilShown(page, 'the open monitor incident', () => publish, LIVE_TIMEOUT);
  await capture(page, 'incidents-publish');
  await publish.first().click();
  await atPath(page, /^\/status-pages\/[^/]+\/incidents\/[^/]+$/);
  await page.getByRole('heading', { level: 2, name: /Checkout/ }).waitFor();
  assert.match(await page.locator('.facts').innerText(), /Published from/);
  await untilShown(pub, 'the published monitor incident', () => pub.locator('section[aria-labelledby="active"]'));
  // The editor's incident list no longer offers it.
  await page.getByRole('link', { name: 'All incidents' }).click();
  await page.locator('.incident-open[data-public-incident-id]').first().waitFor();
  assert.equal(await page.getByRole('button', { name: /^Publish the incident of/ }).count(), 0);

  // The list of pages links to the editor and to the public page.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Status pages' }).click();
  await page.locator('[data-page-id]').getByText('Default page').waitFor();
  await capture(page, 'status-pages');

  // The Free plan allows one status page: a second is refused in words, with the way to more.
  await page.getByLabel('Title').fill('Second page');
  await page.getByRole('button', { name: 'Create status page' }).click();
  const refused = page.locator('.notice-error').filter({ hasText: 'Free plan allows 1' });
  await refused.waitFor();
  assert.match(await refused.innerText(), /^The Free plan allows 1 status pages?; the Pro plan allows more\. See plans and upgrade$/);
  await capture(page, 'plan-limit');
  await refused.getByRole('link', { name: 'See plans and upgrade' }).click();
  await atPath(page, '/settings/billing');

  // Billing: Free, usage per limit, the plans; the owner upgrades through (local) Stripe Checkout.
  await page.getByRole('heading', { name: 'Free plan' }).waitFor();
  const pagesUsage = page.locator('[data-limit="status_pages"]');
  assert.match(await pagesUsage.innerText(), /Status pages[\s\S]*1 of 1/);
  assert.equal(await pagesUsage.locator('meter').getAttribute('value'), '1');
  assert.match(await page.locator('[data-limit="monitors"]').innerText(), /1 of 2000/);
  await page.getByRole('table').getByRole('columnheader', { name: 'Pro' }).waitFor();
  await capture(page, 'billing');
  await page.getByRole('button', { name: 'Upgrade to Pro' }).click();
  await page.waitForURL(`${stripe.base}/pay/cs_e2e`);
  await page.getByRole('heading', { name: 'Fake Stripe Checkout' }).waitFor();
  const session = stripe.requests.find((r) => r.path === '/v1/checkout/sessions');
  assert.ok(session, 'a Checkout session was asked for');
  assert.equal(session.auth, 'Bearer sk_test_e2e');
  assert.equal(session.form.get('line_items[0][price]'), 'price_e2e');
  assert.equal(session.form.get('success_url'), `${edge}/settings/billing?checkout=success`);
  // Coming back from Checkout says so; the plan stays Free until Stripe's webhook says otherwise.
  await page.goto(`${app}/settings/billing?checkout=success`);
  await page.getByText('Thank you! Your payment went through.', { exact: false }).waitFor();
  await page.getByRole('heading', { name: 'Free plan' }).waitFor();

  assert.deepEqual(problems, [], 'page errors or CSP violations');
}
