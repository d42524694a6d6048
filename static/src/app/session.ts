//! The signed-in user and organisation (`GET /api/me`), shared by the views.

import { useEffect, useState } from 'preact/hooks';
import { api, type Schemas } from '../api';

export type Me = Schemas['MeResponse'];

let me: Me | null | undefined;
let loading: Promise<Me | null> | null = null;
const listeners = new Set<(m: Me | null | undefined) => void>();

function set(m: Me | null | undefined): void {
  me = m;
  for (const l of listeners) l(m);
}

/** Loads (or reloads) the session; null when signed out. */
export function loadMe(force = false): Promise<Me | null> {
  if (me !== undefined && !force) return Promise.resolve(me);
  if (!loading) {
    loading = api
      .get('/api/me')
      .then((m) => {
        set(m);
        return m;
      })
      .catch(() => {
        set(null);
        return null;
      })
      .finally(() => {
        loading = null;
      });
  }
  return loading;
}

/** Forgets the session (after logout). */
export function clearMe(): void {
  set(null);
}

/** Drops the cached session so the next signed-in page reloads it (after verifying the email). */
export function forgetMe(): void {
  set(undefined);
}

/** Sets the session from a sign-in answer without another request. */
export function setMe(m: Me): void {
  set(m);
}

/** The session; undefined while loading. */
export function useMe(): Me | null | undefined {
  const [value, setValue] = useState(me);
  useEffect(() => {
    listeners.add(setValue);
    // The session may have loaded between this render and the effect; take it.
    setValue(me);
    return () => {
      listeners.delete(setValue);
    };
  }, []);
  return value;
}
