//! Log in, with the organisation picker when the user belongs to several.

import { useState } from 'preact/hooks';
import { api } from '../api';
import type { Organization } from '../api/models';
import type { PageProps } from '../app/pages';
import { ErrorNotice, Field, fieldError, isFieldError } from '../ui/components';
import { afterSignIn } from './signin';

export default function Login({ query }: PageProps) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [orgs, setOrgs] = useState<Organization[] | null>(null);
  const [org, setOrg] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const next = query.get('next');

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = await api.post('/api/auth/login', {
        body: { email, password, organization: orgs && org ? org : null },
        noAuthRetry: true,
      });
      if (body.status === 'choose_organization' && body.organizations) {
        setOrgs(body.organizations);
        setOrg(body.organizations[0]?.id ?? '');
      } else {
        await afterSignIn(body, next);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="narrow">
      <h1>Log in</h1>
      {next && <p>Please log in to continue.</p>}
      <form onSubmit={(e) => void submit(e)} noValidate>
        {!isFieldError(error, ['email', 'password']) && <ErrorNotice error={error} />}
        <Field label="Email" name="email" type="email" autoComplete="email" required value={email} onInput={setEmail} error={fieldError(error, 'email')} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={setPassword}
          error={fieldError(error, 'password')}
        />
        {orgs && (
          <fieldset class="org-picker">
            <legend>Choose an organisation</legend>
            {orgs.map((o) => (
              <div class="field field-check" key={o.id}>
                <input type="radio" id={`org-${o.id}`} name="organization" value={o.id} checked={org === o.id} onChange={() => setOrg(o.id)} />
                <label for={`org-${o.id}`}>
                  {o.name} <span class="muted">({o.slug})</span>
                </label>
              </div>
            ))}
          </fieldset>
        )}
        <button class="button button-primary" type="submit" disabled={busy}>
          {orgs ? 'Continue' : 'Log in'}
        </button>
      </form>
      <p>
        <a href="/forgot-password">Forgot your password?</a> · No account yet? <a href="/signup">Sign up</a>
      </p>
    </section>
  );
}
