//! Route matching: the patterns of `routes.json` ("/monitors/:id") against a path.

/** A compiled pattern. */
export interface CompiledRoute {
  pattern: string;
  segments: string[];
  /** Number of static segments; more static segments win over parameters. */
  rank: number;
}

/** A matched route with its decoded parameters. */
export interface RouteMatch {
  pattern: string;
  params: Record<string, string>;
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** Compiles patterns, most specific first, so "/monitors/new" beats "/monitors/:id". */
export function compileRoutes(patterns: readonly string[]): CompiledRoute[] {
  return patterns
    .map((pattern) => {
      if (!pattern.startsWith('/')) throw new Error(`route "${pattern}" must start with /`);
      const segments = split(pattern);
      return { pattern, segments, rank: segments.filter((s) => !s.startsWith(':')).length };
    })
    .sort((a, b) => b.segments.length - a.segments.length || b.rank - a.rank);
}

/** The route for `pathname`, or null (the 404 page). A trailing slash is ignored. */
export function matchRoute(routes: readonly CompiledRoute[], pathname: string): RouteMatch | null {
  const parts = split(pathname);
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length; i++) {
      const seg = route.segments[i] as string;
      const part = parts[i] as string;
      if (seg.startsWith(':')) {
        let value: string;
        try {
          value = decodeURIComponent(part);
        } catch {
          ok = false;
          break;
        }
        params[seg.slice(1)] = value;
      } else if (seg !== part) {
        ok = false;
        break;
      }
    }
    if (ok) return { pattern: route.pattern, params };
  }
  return null;
}

/** Builds a path from a pattern and parameters (encoded). */
export function buildPath(pattern: string, params: Record<string, string> = {}): string {
  const path = split(pattern)
    .map((seg) => {
      if (!seg.startsWith(':')) return seg;
      const value = params[seg.slice(1)];
      if (value === undefined) throw new Error(`missing parameter ${seg} for ${pattern}`);
      return encodeURIComponent(value);
    })
    .join('/');
  return `/${path}`;
}

/**
 * A safe in-app destination from a `next` query value: only same-origin paths
 * ("/monitors?x=1"), never "//evil.example" or "https://…", so a link cannot
 * send a signed-in user elsewhere.
 */
export function safeNext(next: string | null | undefined, fallback = '/monitors'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) {
    return fallback;
  }
  return next;
}
