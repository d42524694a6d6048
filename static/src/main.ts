import './style.css';

/** Readiness endpoint of the StatusWatch backend (same origin). */
const HEALTH_URL = '/health/ready/';
const TIMEOUT_MS = 5_000;
const REFRESH_MS = 60_000;
const MAX_REASON_LENGTH = 200;

type StatusState = 'ok' | 'degraded' | 'unknown';

interface SystemStatus {
  state: StatusState;
  text: string;
}

/** Pulls a human-readable reason out of a failed health response. */
async function failureReason(res: Response): Promise<string> {
  try {
    const body: unknown = await res.json();
    if (
      typeof body === 'object' &&
      body !== null &&
      'message' in body &&
      typeof body.message === 'string' &&
      body.message.trim() !== ''
    ) {
      const message = body.message.trim();
      return message.length > MAX_REASON_LENGTH
        ? `${message.slice(0, MAX_REASON_LENGTH - 1)}…`
        : message;
    }
  } catch {
    // Body was not JSON (e.g. a proxy error page); fall back to the status code.
  }
  return `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
}

async function fetchSystemStatus(): Promise<SystemStatus> {
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const res = await fetch(HEALTH_URL, {
      cache: 'no-store',
      headers: { Accept: 'application/json' },
      signal: controller.signal,
    });
    if (res.status === 200) {
      return { state: 'ok', text: 'All systems operational' };
    }
    return { state: 'degraded', text: `Degraded: ${await failureReason(res)}` };
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === 'AbortError';
    return {
      state: 'unknown',
      text: timedOut
        ? 'Status unavailable: the server did not respond in time'
        : 'Status unavailable: could not reach the server',
    };
  } finally {
    window.clearTimeout(timer);
  }
}

function render(el: HTMLElement, status: SystemStatus): void {
  el.classList.remove('status-checking', 'status-ok', 'status-degraded', 'status-unknown');
  el.classList.add(`status-${status.state}`);
  const text = el.querySelector<HTMLElement>('.status-text');
  if (text) {
    text.textContent = status.text;
  }
}

function startStatusLine(el: HTMLElement): void {
  let inFlight = false;

  const refresh = async (): Promise<void> => {
    if (inFlight) return;
    inFlight = true;
    try {
      render(el, await fetchSystemStatus());
    } finally {
      inFlight = false;
    }
  };

  void refresh();
  window.setInterval(() => {
    if (document.visibilityState === 'visible') void refresh();
  }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refresh();
  });
}

const statusEl = document.getElementById('system-status');
if (statusEl) {
  startStatusLine(statusEl);
}

/** On a tenant's own hostname, show when the platform has suspended it. */
async function showSuspendedNotice(): Promise<void> {
  try {
    const res = await fetch('/api/site', { headers: { Accept: 'application/json' } });
    if (!res.ok) return;
    const body: unknown = await res.json();
    if (typeof body !== 'object' || body === null || !('tenant' in body)) return;
    const tenant = body.tenant;
    if (
      typeof tenant !== 'object' ||
      tenant === null ||
      !('suspended' in tenant) ||
      tenant.suspended !== true
    ) {
      return;
    }
    const name = 'name' in tenant && typeof tenant.name === 'string' ? tenant.name : 'This organization';
    const notice = document.createElement('div');
    notice.className = 'suspended-notice';
    notice.setAttribute('role', 'alert');
    notice.textContent = `${name}'s pages are suspended. Please contact the organization or StatusWatch support.`;
    document.querySelector('main')?.prepend(notice);
  } catch {
    // No notice when the API cannot be reached; the status line reports that.
  }
}

void showSuspendedNotice();
