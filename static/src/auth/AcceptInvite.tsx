//! `/accept-invite?token=…` from an invitation mail.

import { useLayoutEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../app/pages';
import { ErrorNotice, Field, fieldError, isFieldError } from '../ui/components';
import { afterSignIn } from './signin';

export default function AcceptInvite({ query }: PageProps) {
  const [token] = useState(query.get('token') ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  // Before the first paint: the token never shows in the address bar of a rendered page.
  useLayoutEffect(() => {
    if (token) window.history.replaceState(null, '', '/accept-invite');
  }, [token]);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = await api.post('/api/invitations/accept', { body: { token, password }, noAuthRetry: true });
      await afterSignIn(body, '/monitors');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="narrow">
      <h1>Join your team</h1>
      {!token ? (
        <ErrorNotice error={new Error('this link has no token; open the link from the invitation mail again')} />
      ) : (
        <form onSubmit={(e) => void submit(e)} noValidate>
          <p>
            If you already have a StatusWatch account with the invited address, enter its password. Otherwise choose
            a password for your new account.
          </p>
          {!isFieldError(error, ['password']) && <ErrorNotice error={error} />}
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onInput={setPassword}
            error={fieldError(error, 'password')}
          />
          <button class="button button-primary" type="submit" disabled={busy}>
            Accept invitation
          </button>
        </form>
      )}
    </section>
  );
}
