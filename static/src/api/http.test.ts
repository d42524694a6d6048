import { describe, expect, it, vi } from 'vitest';
import { ApiError, createHttp, readCookie, withQuery } from './http';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function json(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** A fake server: answers from a queue and records calls. */
function setup(answers: ((c: Call) => Response)[], csrf: string | null = 'tok') {
  const calls: Call[] = [];
  const onSignedOut = vi.fn();
  const http = createHttp({
    fetch: async (url, init) => {
      const call = { method: init.method ?? 'GET', url, headers: init.headers as Record<string, string>, body: init.body as string | undefined };
      calls.push(call);
      const next = answers.shift();
      if (!next) throw new Error(`unexpected call ${call.method} ${url}`);
      return next(call);
    },
    cookie: (name) => (name === 'sw_csrf' ? csrf : null),
    onSignedOut,
  });
  return { http, calls, onSignedOut };
}

describe('api client', () => {
  it('sends the CSRF cookie as X-CSRF-Token on writes only', async () => {
    const { http, calls } = setup([() => json(200, []), () => json(201, { id: 'm1' })]);
    await http.request('GET', '/api/monitors');
    await http.request('POST', '/api/monitors', { body: { name: 'x' } });
    expect(calls[0]?.headers['X-CSRF-Token']).toBeUndefined();
    expect(calls[1]?.headers['X-CSRF-Token']).toBe('tok');
    expect(calls[1]?.headers['Content-Type']).toBe('application/json');
    expect(calls[1]?.body).toBe('{"name":"x"}');
  });

  it('refreshes once on a 401 and retries the request', async () => {
    const { http, calls, onSignedOut } = setup([
      () => json(401, { code: 'not_authenticated', message: 'sign in' }),
      () => json(200, { status: 'signed_in' }),
      () => json(200, [{ id: 'm1' }]),
    ]);
    await expect(http.request('GET', '/api/monitors')).resolves.toEqual([{ id: 'm1' }]);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET /api/monitors', 'POST /api/auth/refresh', 'GET /api/monitors']);
    expect(calls[1]?.headers['X-CSRF-Token']).toBe('tok');
    expect(onSignedOut).not.toHaveBeenCalled();
  });

  it('signs out when the refresh fails too', async () => {
    const { http, calls, onSignedOut } = setup([
      () => json(401, { code: 'not_authenticated', message: 'sign in' }),
      () => json(401, { code: 'invalid_refresh_token', message: 'refresh token is invalid' }),
    ]);
    await expect(http.request('GET', '/api/monitors')).rejects.toMatchObject({ status: 401, code: 'not_authenticated' });
    expect(calls).toHaveLength(2);
    expect(onSignedOut).toHaveBeenCalledTimes(1);
  });

  it('signs out when the retried request is still refused', async () => {
    const { http, onSignedOut } = setup([
      () => json(401, { code: 'a', message: 'x' }),
      () => json(200, {}),
      () => json(401, { code: 'b', message: 'still no' }),
    ]);
    await expect(http.request('GET', '/api/me')).rejects.toMatchObject({ code: 'b' });
    expect(onSignedOut).toHaveBeenCalledTimes(1);
  });

  it('shares one refresh between concurrent 401s (refresh tokens are single-use)', async () => {
    let refreshes = 0;
    let fresh = false;
    const http = createHttp({
      fetch: async (url) => {
        if (url === '/api/auth/refresh') {
          refreshes++;
          await new Promise((r) => setTimeout(r, 10));
          fresh = true;
          return json(200, {});
        }
        return fresh ? json(200, url) : json(401, { code: 'expired', message: 'expired' });
      },
      cookie: () => 'tok',
      onSignedOut: () => {},
    });
    const results = await Promise.all([http.request('GET', '/a'), http.request('GET', '/b'), http.request('GET', '/c')]);
    expect(results).toEqual(['/a', '/b', '/c']);
    expect(refreshes).toBe(1);
  });

  it('does not refresh for login-type calls', async () => {
    const { http, calls, onSignedOut } = setup([() => json(401, { code: 'invalid_credentials', message: 'wrong email or password', field: 'password' })]);
    const err = await http.request('POST', '/api/auth/login', { body: {}, noAuthRetry: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ message: 'wrong email or password', field: 'password' });
    expect(calls).toHaveLength(1);
    expect(onSignedOut).not.toHaveBeenCalled();
  });

  it('keeps which limit a 402 plan_limit names and the plan that lifts it', async () => {
    const { http } = setup([
      () => json(402, { code: 'plan_limit', message: 'the Free plan allows 1 status pages; the Pro plan allows more', limit: 'status_pages', plan: 'pro' }),
    ]);
    const err = await http.request('POST', '/api/status-pages', { body: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 402, code: 'plan_limit', limit: 'status_pages', plan: 'pro', field: undefined });
    const plain = await setup([() => json(409, { code: 'conflict', message: 'x' })]).http.request('GET', '/x').catch((e: unknown) => e);
    expect(plain).toMatchObject({ limit: undefined, plan: undefined });
  });

  it('turns non-JSON errors and network failures into words', async () => {
    const { http } = setup([() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })]);
    await expect(http.request('GET', '/x')).rejects.toMatchObject({ status: 502, message: 'The server answered 502 Bad Gateway.' });
    const down = createHttp({ fetch: () => Promise.reject(new TypeError('Failed to fetch')), cookie: () => null, onSignedOut: () => {} });
    await expect(down.request('GET', '/x')).rejects.toMatchObject({ code: 'network', message: expect.stringMatching(/could not reach/i) });
  });

  it('answers undefined for 204', async () => {
    const { http } = setup([() => new Response(null, { status: 204 })]);
    await expect(http.request('DELETE', '/api/monitors/1')).resolves.toBeUndefined();
  });

  it('reads cookies and builds query strings', () => {
    expect(readCookie('a=1; sw_csrf=abc%3D; b=2', 'sw_csrf')).toBe('abc=');
    expect(readCookie('a=1', 'sw_csrf')).toBeNull();
    expect(withQuery('/x', { a: 1, b: '', c: undefined, d: 'y z' })).toBe('/x?a=1&d=y+z');
    expect(withQuery('/x', {})).toBe('/x');
  });
});
