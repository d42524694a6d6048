// Starts what the browser test drives: an SMTP sink, a target HTTP server
// that can be told to fail, and a real `statuswatch serve` on free ports
// with its own data directory. Everything is stopped by stopAll().
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = new URL('../../', import.meta.url).pathname;
const cleanups = [];

/** A TCP port the OS says is free. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function waitForLine(child, text, what, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not print "${text}" in time:\n${out}`)), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}):\n${out}`));
    });
  });
}

/** tests/support/smtp_sink.py on a free port; `messages()` reads what it got. */
export async function startSmtpSink() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sw-browser-smtp-'));
  const child = spawn('python3', [join(repoRoot, 'tests/support/smtp_sink.py'), String(port), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForLine(child, 'ready', 'SMTP sink');
  return {
    port,
    messages() {
      return readdirSync(dir)
        .filter((f) => f.endsWith('.eml'))
        .sort()
        .map((f) => decodeMail(readFileSync(join(dir, f), 'utf8')));
    },
  };
}

/** Undoes quoted-printable soft breaks and escapes, enough to find links. */
export function decodeMail(raw) {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/** Waits for a mail to `to` whose body has a link with `path`; returns the link. */
export async function waitForLink(sink, to, path, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  const re = new RegExp(`https?://[^\\s"'<>]+${path.replace(/[?]/g, '\\?')}[^\\s"'<>]*`);
  while (Date.now() < deadline) {
    for (const m of sink.messages()) {
      if (!m.toLowerCase().includes(to.toLowerCase())) continue;
      const found = m.match(re);
      if (found) return found[0].replace(/&amp;/g, '&');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} with a ${path} link; mails:\n${sink.messages().join('\n----\n')}`);
}

/** A local HTTP target: 200 "ok", or 500 after `fail()`. */
export async function startTarget() {
  let failing = false;
  const server = createServer((req, res) => {
    res.writeHead(failing ? 500 : 200, { 'Content-Type': 'text/plain' });
    res.end(failing ? 'broken' : 'ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  return {
    url: `http://127.0.0.1:${server.address().port}/health`,
    fail() {
      failing = true;
    },
    recover() {
      failing = false;
    },
  };
}

/**
 * A local stand-in for the three Stripe calls the app makes (customer,
 * Checkout session, portal session), answering as Stripe documents them;
 * `requests` holds what it was sent. Its Checkout and portal "pages" are
 * plain HTML here, so a browser can be seen arriving.
 */
export async function startFakeStripe() {
  const requests = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      requests.push({ method: req.method, path: req.url, auth: req.headers.authorization ?? '', form: new URLSearchParams(body) });
      const json = (status, value) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && req.url === '/v1/customers') return json(200, { id: 'cus_e2e', object: 'customer' });
      if (req.method === 'POST' && req.url === '/v1/checkout/sessions') return json(200, { id: 'cs_e2e', object: 'checkout.session', url: `${base}/pay/cs_e2e` });
      if (req.method === 'POST' && req.url === '/v1/billing_portal/sessions') return json(200, { id: 'bps_e2e', object: 'billing_portal.session', url: `${base}/portal/bps_e2e` });
      if (req.method === 'GET' && req.url?.startsWith('/pay/')) {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end('<!doctype html><title>Fake Stripe Checkout</title><h1>Fake Stripe Checkout</h1>');
      }
      json(404, { error: { message: `no such fake endpoint: ${req.method} ${req.url}` } });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  return { base: `http://127.0.0.1:${server.address().port}`, requests };
}

/** `target/debug/statuswatch serve` on free ports, mail to `smtpPort`; `configToml` is layered over the defaults (`--config`). */
export async function startServer(smtpPort, { configToml } = {}) {
  const [app, http, https, admin] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'sw-browser-data-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STATUSWATCH') && k !== 'RUST_LOG'));
  Object.assign(env, {
    STATUSWATCH__APP__LISTEN: `127.0.0.1:${app}`,
    STATUSWATCH__EDGE__HTTP_LISTEN: `127.0.0.1:${http}`,
    STATUSWATCH__EDGE__HTTPS_LISTEN: `127.0.0.1:${https}`,
    STATUSWATCH__EDGE__ADMIN_LISTEN: `127.0.0.1:${admin}`,
    STATUSWATCH__TENANCY__PUBLIC_URL: `https://localhost:${https}`,
    STATUSWATCH__EMAIL__ENABLED: 'true',
    STATUSWATCH__EMAIL__SMTP_HOST: '127.0.0.1',
    STATUSWATCH__EMAIL__SMTP_PORT: String(smtpPort),
    STATUSWATCH__EMAIL__SMTP_SECURITY: 'none',
    STATUSWATCH__PROBER__PLAN_MIN_INTERVAL_SECONDS: '1',
    STATUSWATCH__PROBER__PLAN_MAX_MONITORS: '2000',
    STATUSWATCH__LOG__LEVEL: 'info',
  });
  const bin = join(repoRoot, 'target/debug/statuswatch');
  const globalArgs = ['--data-dir', dataDir];
  if (configToml) {
    writeFileSync(join(dataDir, 'e2e.toml'), configToml);
    globalArgs.push('--config', join(dataDir, 'e2e.toml'));
  }
  let log = '';
  const child = spawn(bin, [...globalArgs, 'serve'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dataDir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${app}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`statuswatch exited (${child.exitCode}):\n${log}`);
    try {
      const res = await fetch(`${base}/health/ready/`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`statuswatch not ready in 60 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  // The edge serves the SPA; wait until it answers too.
  return {
    base,
    edge: `https://localhost:${https}`,
    httpsPort: https,
    log: () => log,
    /** Runs a `statuswatch` command against this server's data directory; returns stdout. */
    cli: (...args) => execFileSync(bin, [...globalArgs, ...args], { cwd: repoRoot, env, encoding: 'utf8' }),
  };
}

export async function stopAll() {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      // best effort
    }
  }
}
