//! The link from the verification mail: `/verify-email?token=…`.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../app/pages';
import { ErrorNotice, Loading } from '../ui/components';
import { forgetMe } from '../app/session';

export default function VerifyEmail({ query }: PageProps) {
  const token = query.get('token') ?? '';
  const [state, setState] = useState<'working' | 'done' | 'failed'>(token ? 'working' : 'failed');
  const [error, setError] = useState<unknown>(token ? null : new Error('this link has no token; open the link from the mail again'));

  useEffect(() => {
    if (!token) return;
    // Keep the token out of history once it was read.
    window.history.replaceState(null, '', '/verify-email');
    api
      .post('/api/auth/verify-email', { body: { token }, noAuthRetry: true })
      .then(() => {
        forgetMe();
        setState('done');
      })
      .catch((e: unknown) => {
        setError(e);
        setState('failed');
      });
  }, [token]);

  return (
    <section class="narrow">
      <h1>Verify your email</h1>
      {state === 'working' && <Loading what="Verifying your email address" />}
      {state === 'done' && (
        <>
          <div class="notice notice-success" role="status">
            Your email address is verified.
          </div>
          <p>
            <a class="button button-primary" href="/monitors">
              Go to your monitors
            </a>
          </p>
        </>
      )}
      {state === 'failed' && (
        <>
          <ErrorNotice error={error} />
          <p>
            Links expire after a while. <a href="/login">Log in</a> to have a new one sent.
          </p>
        </>
      )}
    </section>
  );
}
