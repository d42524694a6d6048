//! `/reset-password?token=…` from the reset mail, and `&new=1` from the CLI's
//! set-password link ("Set your password").

import { useLayoutEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../app/pages';
import { ErrorNotice, Field, fieldError, isFieldError } from '../ui/components';

export default function ResetPassword({ query }: PageProps) {
  // Read once: the token leaves the address bar right away.
  const [token] = useState(query.get('token') ?? '');
  const [isNew] = useState(query.get('new') === '1');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  // Before the first paint: the token never shows in the address bar of a rendered page.
  useLayoutEffect(() => {
    if (token) window.history.replaceState(null, '', isNew ? '/reset-password?new=1' : '/reset-password');
  }, [token, isNew]);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    if (password !== confirm) {
      setError(new ConfirmError());
      return;
    }
    setBusy(true);
    try {
      await api.post('/api/auth/password-reset/confirm', { body: { token, password }, noAuthRetry: true });
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const title = isNew ? 'Set your password' : 'Choose a new password';
  if (!token) {
    return (
      <section class="narrow">
        <h1>{title}</h1>
        <ErrorNotice error={new Error('this link has no token; open the link from the mail again')} />
        <p>
          <a href="/forgot-password">Request a new link</a>
        </p>
      </section>
    );
  }
  return (
    <section class="narrow">
      <h1>{title}</h1>
      {done ? (
        <>
          <div class="notice notice-success" role="status">
            Your password is set. You can log in with it now.
          </div>
          <p>
            <a class="button button-primary" href="/login">
              Log in
            </a>
          </p>
        </>
      ) : (
        <form onSubmit={(e) => void submit(e)} noValidate>
          {!isFieldError(error, ['password']) && !(error instanceof ConfirmError) && <ErrorNotice error={error} />}
          <Field
            label="New password"
            name="password"
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onInput={setPassword}
            error={fieldError(error, 'password')}
          />
          <Field
            label="Repeat the password"
            name="confirm"
            type="password"
            autoComplete="new-password"
            required
            value={confirm}
            onInput={setConfirm}
            error={error instanceof ConfirmError ? error.message : undefined}
          />
          <button class="button button-primary" type="submit" disabled={busy}>
            {title}
          </button>
        </form>
      )}
    </section>
  );
}

class ConfirmError extends Error {
  constructor() {
    super('The two passwords differ.');
  }
}
