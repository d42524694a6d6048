//! The public landing page.

export default function Landing() {
  return (
    <>
      <section class="hero" aria-labelledby="hero-title">
        <h1 id="hero-title">Uptime monitoring and status pages for your team</h1>
        <p class="lead">
          StatusWatch checks your websites and services around the clock, tells the right people the moment something
          breaks, and keeps your customers informed with a status page they can trust.
        </p>
        <div class="cta">
          <a class="button button-primary button-large" href="/signup">
            Sign up
          </a>
          <a class="button button-secondary button-large" href="/login">
            Log in
          </a>
        </div>
      </section>
      <section class="features" aria-labelledby="features-title">
        <h2 id="features-title">Everything you need to stay ahead of outages</h2>
        <ul class="feature-list">
          <li class="feature">
            <h3>Monitors for every layer</h3>
            <p>HTTP endpoints, TCP ports, DNS records and TLS certificates on a schedule, and heartbeats from cron jobs.</p>
          </li>
          <li class="feature">
            <h3>Alerts where your team works</h3>
            <p>Email, Slack, Discord or your own webhook as soon as a check fails, and again when it recovers.</p>
          </li>
          <li class="feature">
            <h3>Public status pages</h3>
            <p>A status page on your own subdomain with automatic HTTPS.</p>
          </li>
        </ul>
      </section>
    </>
  );
}
