//! Sign up: a new organisation and its owner.

import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorNotice, Field, fieldError, isFieldError } from '../ui/components';
import { afterSignIn } from './signin';

/** A slug suggestion from an organisation name: "Acme Inc." → "acme-inc". */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
}

const FIELDS = ['organization', 'slug', 'email', 'password'];

export default function Signup() {
  const [organization, setOrganization] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = await api.post('/api/auth/signup', { body: { organization, slug, email, password }, noAuthRetry: true });
      await afterSignIn(body, '/monitors');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="narrow">
      <h1>Sign up</h1>
      <p>Create your organisation. You can invite your team afterwards.</p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        {!isFieldError(error, FIELDS) && <ErrorNotice error={error} />}
        <Field
          label="Organisation name"
          name="organization"
          required
          value={organization}
          onInput={(v) => {
            setOrganization(v);
            if (!slugEdited) setSlug(slugify(v));
          }}
          error={fieldError(error, 'organization')}
        />
        <Field
          label="Address (slug)"
          name="slug"
          required
          value={slug}
          onInput={(v) => {
            setSlug(v);
            setSlugEdited(true);
          }}
          hint={`Your pages will live at ${slug || 'your-slug'}.${window.location.hostname}`}
          error={fieldError(error, 'slug')}
        />
        <Field label="Email" name="email" type="email" autoComplete="email" required value={email} onInput={setEmail} error={fieldError(error, 'email')} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onInput={setPassword}
          hint="Use a long passphrase that you do not use elsewhere."
          error={fieldError(error, 'password')}
        />
        <button class="button button-primary" type="submit" disabled={busy}>
          Sign up
        </button>
      </form>
      <p>
        Already have an account? <a href="/login">Log in</a>
      </p>
    </section>
  );
}
