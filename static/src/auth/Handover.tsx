//! `/auth/handover#code=…` on the organisation's host: redeems the single-use
//! code for this host's session cookies. The code leaves the address bar and
//! history before anything else happens.

import { useEffect, useState } from 'preact/hooks';
import { rawRequest } from '../api';
import { loadMe } from '../app/session';
import { navigate } from '../router/history';
import { safeNext } from '../router/match';
import { ErrorNotice, Loading } from '../ui/components';

/** The code (and where to go next) from a `#code=…&next=…` fragment. */
export function parseHandoverHash(hash: string): { code: string | null; next: string } {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const code = params.get('code');
  return { code: code && code.length <= 512 ? code : null, next: safeNext(params.get('next')) };
}

export default function Handover() {
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const { code, next } = parseHandoverHash(window.location.hash);
    window.history.replaceState(null, '', '/auth/handover');
    if (!code) {
      setError(new Error('this sign-in link has no code; log in again'));
      return;
    }
    rawRequest('POST', '/api/auth/handover/redeem', { body: { code }, noAuthRetry: true })
      .then(async () => {
        await loadMe(true);
        navigate(next, { replace: true });
      })
      .catch((e: unknown) => setError(e));
  }, []);

  return (
    <section class="narrow">
      <h1>Signing you in</h1>
      {error ? (
        <>
          <ErrorNotice error={error} />
          <p>
            <a class="button button-primary" href="/login">
              Log in
            </a>
          </p>
        </>
      ) : (
        <Loading what="Opening your organisation" />
      )}
    </section>
  );
}
