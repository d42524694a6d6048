//! `/settings/domains`: custom domains, the DNS records to add, verification.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorNotice, Field, Loading, Notice, PageHeader, fieldError, isFieldError } from '../ui/components';
import { dateTime } from '../ui/format';
import { useAsync } from '../ui/useAsync';

export default function Domains() {
  const domains = useAsync((signal) => api.get('/api/domains', { signal }), []);
  const [hostname, setHostname] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const waiting = (domains.data ?? []).some((d) => !d.verified_at);

  // While a domain waits for its DNS, its state is re-read every 20 s (only
  // while this page is open and visible), so it turns verified on its own.
  useEffect(() => {
    if (!waiting) return;
    const t = window.setInterval(() => {
      if (document.visibilityState === 'visible') domains.reload();
    }, 20_000);
    return () => window.clearInterval(t);
  }, [waiting]);

  async function run(action: () => Promise<unknown>, done: string) {
    setError(null);
    setMessage(null);
    try {
      await action();
      setMessage(done);
      domains.reload();
    } catch (x) {
      setError(x);
    }
  }

  return (
    <section>
      <PageHeader title="Custom domains" />
      <p>Serve your status page on your own hostname. Add the DNS records shown, then verify.</p>
      {message && <Notice kind="success">{message}</Notice>}
      {!isFieldError(error, ['hostname']) && <ErrorNotice error={error} />}
      <ErrorNotice error={domains.error} />
      {domains.loading && !domains.data && <Loading />}
      <ul class="cards">
        {(domains.data ?? []).map((d) => (
          <li key={d.id} class="card">
            <h2 class="card-title">{d.hostname}</h2>
            <p>
              {d.verified_at ? (
                <span class="badge badge-up">Verified {dateTime(d.verified_at)}</span>
              ) : (
                <span class="badge badge-pending">Waiting for DNS</span>
              )}{' '}
              <span class="muted">{d.kind}</span>
            </p>
            {(d.dns_records ?? []).length > 0 && (
              <div class="table-wrap">
                <table>
                  <caption>DNS records to add at your DNS provider</caption>
                  <thead>
                    <tr>
                      <th scope="col">Type</th>
                      <th scope="col">Name</th>
                      <th scope="col">Value</th>
                    </tr>
                  </thead>
                  <tbody>
                    {(d.dns_records ?? []).map((r) => (
                      <tr key={`${r.type}-${r.name}`}>
                        <td>{r.type}</td>
                        <td>
                          <code>{r.name}</code>
                        </td>
                        <td>
                          <code>{r.value}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            {!d.verified_at && (
              <button type="button" class="button button-primary" onClick={() => void run(() => api.post('/api/domains/{id}/verify', { params: { id: d.id } }), `Checked the DNS of ${d.hostname}.`)}>
                Verify now <span class="visually-hidden">{d.hostname}</span>
              </button>
            )}{' '}
            <button
              type="button"
              class="button button-danger"
              onClick={() => {
                if (window.confirm(`Remove ${d.hostname}?`)) void run(() => api.del('/api/domains/{id}', { params: { id: d.id } }), `${d.hostname} was removed.`);
              }}
            >
              Remove <span class="visually-hidden">{d.hostname}</span>
            </button>
          </li>
        ))}
      </ul>
      {domains.data && domains.data.length === 0 && <p class="muted">No custom domains.</p>}
      <h2>Add a domain</h2>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await api.post('/api/domains', { body: { hostname } });
            setHostname('');
          }, `Added ${hostname}. Now add its DNS records.`);
        }}
        noValidate
      >
        <Field name="hostname" label="Hostname" required value={hostname} onInput={setHostname} hint="e.g. status.example.com" error={fieldError(error, 'hostname')} />
        <button class="button button-primary" type="submit">
          Add domain
        </button>
      </form>
    </section>
  );
}
