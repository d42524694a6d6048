//! The app's one API client instance.

import { createHttp, readCookie } from './http';
import { typedApi } from './typed';
import { getLocation, navigate } from '../router/history';

/** Where a signed-out user is sent, remembering where they were. */
export function loginPathFor(pathname: string, search: string): string {
  return `/login?next=${encodeURIComponent(pathname + search)}`;
}

const http = createHttp({
  fetch: (input, init) => window.fetch(input, init),
  cookie: (name) => readCookie(document.cookie, name),
  onSignedOut: () => {
    const loc = getLocation();
    if (loc.pathname !== '/login') navigate(loginPathFor(loc.pathname, loc.search), { replace: true });
  },
});

export const api = typedApi(http);
export { ApiError } from './http';
export type { Schemas } from './typed';

/** Untyped calls, for endpoints newer than the committed OpenAPI snapshot. */
export const rawRequest = http.request;
