import { describe, expect, it } from 'vitest';
import routes from '../../routes.json';
import { pages } from '../app/pages';
import { buildPath, compileRoutes, matchRoute, safeNext } from './match';

const compiled = compileRoutes(routes);

describe('router', () => {
  it('matches static routes before parameters', () => {
    expect(matchRoute(compiled, '/monitors/new')).toEqual({ pattern: '/monitors/new', params: {} });
    expect(matchRoute(compiled, '/monitors/abc')).toEqual({ pattern: '/monitors/:id', params: { id: 'abc' } });
    expect(matchRoute(compiled, '/monitors/abc/edit')).toEqual({ pattern: '/monitors/:id/edit', params: { id: 'abc' } });
  });

  it('decodes parameters and ignores a trailing slash', () => {
    expect(matchRoute(compiled, '/monitors/a%20b/')?.params).toEqual({ id: 'a b' });
    expect(matchRoute(compiled, '/login/')?.pattern).toBe('/login');
    expect(matchRoute(compiled, '/')?.pattern).toBe('/');
  });

  it('gives no route (the 404 page) for unknown paths and bad encodings', () => {
    expect(matchRoute(compiled, '/nope')).toBeNull();
    expect(matchRoute(compiled, '/monitors/a/b/c')).toBeNull();
    expect(matchRoute(compiled, '/monitors/%E0%A4%A')).toBeNull();
  });

  it('builds paths with encoded parameters', () => {
    expect(buildPath('/monitors/:id/edit', { id: 'a/b' })).toBe('/monitors/a%2Fb/edit');
    expect(() => buildPath('/monitors/:id', {})).toThrow(/missing parameter/);
  });

  it('rejects patterns without a leading slash', () => {
    expect(() => compileRoutes(['login'])).toThrow();
  });

  it('has a page for every route of routes.json and no other', () => {
    expect(Object.keys(pages).sort()).toEqual([...routes].sort());
  });

  it('keeps the mailed-link routes', () => {
    for (const path of ['/verify-email', '/reset-password', '/accept-invite', '/auth/handover', '/login', '/signup']) {
      expect(matchRoute(compiled, path)?.pattern).toBe(path);
    }
  });

  it('only follows same-origin next paths', () => {
    expect(safeNext('/monitors/x?y=1')).toBe('/monitors/x?y=1');
    expect(safeNext('//evil.example/')).toBe('/monitors');
    expect(safeNext('https://evil.example/')).toBe('/monitors');
    expect(safeNext('/\\evil.example')).toBe('/monitors');
    expect(safeNext(null)).toBe('/monitors');
  });
});

describe('hand-over fragment', async () => {
  const { parseHandoverHash } = await import('../auth/Handover');
  const { withNext } = await import('../auth/signin');
  it('reads the code and a safe next path', () => {
    expect(parseHandoverHash('#code=abc')).toEqual({ code: 'abc', next: '/monitors' });
    expect(parseHandoverHash('#code=abc&next=%2Fmonitors%2Fx')).toEqual({ code: 'abc', next: '/monitors/x' });
    expect(parseHandoverHash('#code=abc&next=https%3A%2F%2Fevil.example')).toEqual({ code: 'abc', next: '/monitors' });
    expect(parseHandoverHash('').code).toBeNull();
    expect(parseHandoverHash(`#code=${'x'.repeat(600)}`).code).toBeNull();
  });
  it('carries next in the fragment only when it is not the default', () => {
    expect(withNext('https://a.localhost/auth/handover#code=c', '/monitors')).toBe('https://a.localhost/auth/handover#code=c');
    expect(withNext('https://a.localhost/auth/handover#code=c', '/monitors/x?y=1')).toBe('https://a.localhost/auth/handover#code=c&next=%2Fmonitors%2Fx%3Fy%3D1');
  });
});

describe('routes the edge lets through', () => {
  it('has no page under a path the edge sends to the app', () => {
    // The edge routes /api/*, /admin/*, /health/*, /metrics and (on tenant
    // hosts) /status/* to the app, so a page there would be unreachable by
    // URL (reload, deep link).
    for (const r of routes) {
      expect(r, r).not.toMatch(/^\/(api|admin|health|status)(\/|$)|^\/metrics$/);
    }
  });
});
