//! The app: matches the URL against routes.json, loads the page's chunk, and
//! wraps signed-in pages in the shell (navigation, session, live status).

import { useEffect, useErrorBoundary, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import routes from '../../routes.json';
import { compileRoutes, matchRoute } from '../router/match';
import { getLocation, subscribe, type Location } from '../router/history';
import { pages, type PageProps } from './pages';
import { Shell } from './Shell';
import { NotFound } from '../pages/NotFound';
import { ErrorNotice, Loading } from '../ui/components';

const compiled = compileRoutes(routes);

function useLocation(): Location {
  const [loc, setLoc] = useState(getLocation());
  useEffect(() => subscribe(setLoc), []);
  return loc;
}

/** Moves focus to the new page's heading so keyboard and screen-reader users land on it. */
function focusMain(): void {
  const main = document.getElementById('main');
  const heading = main?.querySelector<HTMLElement>('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  } else {
    main?.focus({ preventScroll: true });
  }
}

export function App() {
  const loc = useLocation();
  const match = matchRoute(compiled, loc.pathname);
  const entry = match ? pages[match.pattern] : undefined;
  const [page, setPage] = useState<{ pattern: string; Component: ComponentType<PageProps> } | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  useEffect(() => {
    if (!entry || !match) return;
    let live = true;
    setLoadError(null);
    entry
      .load()
      .then((m) => {
        if (live) setPage({ pattern: match.pattern, Component: m.default });
      })
      .catch((e: unknown) => {
        if (live) setLoadError(e);
      });
    return () => {
      live = false;
    };
  }, [match?.pattern]);

  useEffect(() => {
    const title = document.querySelector('#main h1')?.textContent;
    document.title = title ? `${title} · StatusWatch` : 'StatusWatch';
    if (page) focusMain();
  }, [page, loc.pathname]);

  if (!match || !entry) {
    return (
      <PublicFrame>
        <NotFound />
      </PublicFrame>
    );
  }
  const props: PageProps = { params: match.params, query: new URLSearchParams(loc.search) };
  const content = loadError ? (
    <ErrorNotice error={new Error('this page could not be loaded; reload to get the latest version of the app')} />
  ) : page && page.pattern === match.pattern ? (
    <Boundary resetKey={loc.pathname}>
      <page.Component {...props} />
    </Boundary>
  ) : (
    <Loading />
  );
  if (entry.access === 'public') return <PublicFrame>{content}</PublicFrame>;
  return (
    <Shell path={loc.pathname} superuser={entry.access === 'superuser'}>
      {content}
    </Shell>
  );
}

/** Shows a page's rendering error in words instead of a blank page. */
function Boundary({ children, resetKey }: { children: preact.ComponentChildren; resetKey: string }) {
  const [error, reset] = useErrorBoundary();
  useEffect(() => {
    if (error) reset();
    // Only a new page clears the error.
  }, [resetKey]);
  if (error) {
    return (
      <div class="notice notice-error" role="alert">
        This page ran into a problem and could not be shown: {error instanceof Error ? error.message : String(error)}.{' '}
        <a href={window.location.pathname + window.location.search} data-external="">
          Reload the page
        </a>
      </div>
    );
  }
  return <>{children}</>;
}

/** Pages without the app navigation (landing, sign-in, links from mails). */
function PublicFrame({ children }: { children: preact.ComponentChildren }) {
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to main content
      </a>
      <header class="site-header">
        <div class="container header-inner">
          <a class="brand" href="/">
            <img class="brand-logo" src="/logo.svg" alt="" width="32" height="32" />
            <span>StatusWatch</span>
          </a>
          <nav aria-label="Account">
            <ul class="nav-list">
              <li>
                <a class="button button-secondary" href="/login">
                  Log in
                </a>
              </li>
              <li>
                <a class="button button-primary" href="/signup">
                  Sign up
                </a>
              </li>
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" tabIndex={-1} class="container public-main">
        {children}
      </main>
    </>
  );
}
