//! The 404 page for paths that are not in routes.json.

export function NotFound() {
  return (
    <section class="narrow">
      <h1>Page not found</h1>
      <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>
      <p>
        <a class="button button-primary" href="/monitors">
          Go to your monitors
        </a>{' '}
        <a class="button button-secondary" href="/">
          Home
        </a>
      </p>
    </section>
  );
}
