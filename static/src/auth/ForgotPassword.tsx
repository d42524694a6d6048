//! Ask for a password-reset mail.

import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorNotice, Field, fieldError, isFieldError } from '../ui/components';

export default function ForgotPassword() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/auth/password-reset', { body: { email }, noAuthRetry: true });
      setSent(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="narrow">
      <h1>Reset your password</h1>
      {sent ? (
        <div class="notice notice-success" role="status">
          If an account uses {email}, a link to choose a new password is on its way. Check your inbox.
        </div>
      ) : (
        <form onSubmit={(e) => void submit(e)} noValidate>
          {!isFieldError(error, ['email']) && <ErrorNotice error={error} />}
          <Field label="Email" name="email" type="email" autoComplete="email" required value={email} onInput={setEmail} error={fieldError(error, 'email')} />
          <button class="button button-primary" type="submit" disabled={busy}>
            Send reset link
          </button>
        </form>
      )}
      <p>
        <a href="/login">Back to log in</a>
      </p>
    </section>
  );
}
