//! The HTTP core of the API client: JSON in and out, the CSRF header on writes,
//! one transparent refresh on a 401, and errors as `ApiError` with words.
//! Kept free of the DOM (its dependencies are passed in) so it is unit-tested.

/** An error the API answered (`{code, message, field?}`) or a failure to reach it. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  /** With `plan_limit` (402): the limit reached and the plan that lifts it. */
  readonly limit: string | undefined;
  readonly plan: string | undefined;

  constructor(status: number, code: string, message: string, field?: string, extra: { limit?: string; plan?: string } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.limit = extra.limit;
    this.plan = extra.plan;
  }
}

/** What the core needs from its surroundings. */
export interface HttpDeps {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  /** Value of a readable cookie (the `sw_csrf` cookie). */
  cookie: (name: string) => string | null;
  /** Called when the session is gone for good (refresh failed too). */
  onSignedOut: () => void;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  /** Do not refresh or redirect on 401 (login, refresh, public pages). */
  noAuthRetry?: boolean;
  signal?: AbortSignal;
}

const CSRF_COOKIE = 'sw_csrf';
const CSRF_HEADER = 'X-CSRF-Token';
const REFRESH_PATH = '/api/auth/refresh';

/** Reads one cookie from a `document.cookie` string. */
export function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return null;
}

/** Appends a query string, skipping empty values. */
export function withQuery(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function toError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`;
  let field: string | undefined;
  const extra: { limit?: string; plan?: string } = {};
  try {
    const body: unknown = await res.json();
    if (typeof body === 'object' && body !== null) {
      const b = body as Record<string, unknown>;
      if (typeof b.code === 'string') code = b.code;
      if (typeof b.message === 'string' && b.message.trim() !== '') message = b.message;
      if (typeof b.field === 'string') field = b.field;
      if (typeof b.limit === 'string') extra.limit = b.limit;
      if (typeof b.plan === 'string') extra.plan = b.plan;
    }
  } catch {
    // Not JSON (a proxy's error page): keep the status line.
  }
  return new ApiError(res.status, code, message, field, extra);
}

/** The client core: `request(method, path, options)` resolves to the parsed JSON (or undefined). */
export function createHttp(deps: HttpDeps) {
  let refreshing: Promise<boolean> | null = null;

  /** One refresh at a time: a refresh token is single-use, and a second
   * concurrent use would look like theft and revoke the whole session. */
  function refresh(): Promise<boolean> {
    if (!refreshing) {
      refreshing = send('POST', REFRESH_PATH, { body: {} })
        .then((res) => res.ok)
        .catch(() => false)
        .finally(() => {
          refreshing = null;
        });
    }
    return refreshing;
  }

  function send(method: string, path: string, opts: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const init: RequestInit = { method, headers, credentials: 'same-origin' };
    if (opts.signal) init.signal = opts.signal;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      const csrf = deps.cookie(CSRF_COOKIE);
      if (csrf) headers[CSRF_HEADER] = csrf;
    }
    return deps.fetch(withQuery(path, opts.query), init);
  }

  async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    let res: Response;
    try {
      res = await send(method, path, opts);
      if (res.status === 401 && !opts.noAuthRetry) {
        if (await refresh()) res = await send(method, path, opts);
        if (res.status === 401) {
          deps.onSignedOut();
          throw await toError(res);
        }
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError(0, 'network', 'Could not reach the StatusWatch server. Check your connection and try again.');
    }
    if (!res.ok) throw await toError(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, 'bad_response', 'The server sent a response that is not JSON.');
    }
  }

  return { request, refresh };
}

export type Http = ReturnType<typeof createHttp>;
