//! The browser location as a small observable: navigate(), back button, link clicks.

export interface Location {
  pathname: string;
  search: string;
}

type Listener = (loc: Location) => void;
const listeners = new Set<Listener>();

function current(): Location {
  return { pathname: window.location.pathname, search: window.location.search };
}

function emit(): void {
  const loc = current();
  for (const l of listeners) l(loc);
}

/** Current location. */
export function getLocation(): Location {
  return current();
}

/** Goes to an in-app path (pushes history unless `replace`). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  emit();
  window.scrollTo(0, 0);
}

/** Subscribes to location changes; returns the unsubscribe function. */
export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Wires the back button and plain same-origin `<a href>` clicks to the router. */
export function startHistory(): void {
  window.addEventListener('popstate', emit);
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const target = event.target;
    if (!(target instanceof Element)) return;
    const a = target.closest('a');
    if (!a || a.target || a.hasAttribute('download') || a.dataset.external !== undefined) return;
    const url = new URL(a.href, window.location.href);
    if (url.origin !== window.location.origin) return;
    // API and admin API paths are documents from the server, not pages.
    if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/admin/api/')) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
