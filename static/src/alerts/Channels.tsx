//! `/alerts`: alert channels (email, Slack, Discord, webhook) with "send test".

import { useState } from 'preact/hooks';
import { api, type Schemas } from '../api';
import { ErrorNotice, Field, Loading, Notice, PageHeader, SelectField, fieldError, isFieldError } from '../ui/components';
import { useAsync } from '../ui/useAsync';

const KINDS = [
  ['email', 'Email'],
  ['slack', 'Slack (incoming webhook)'],
  ['discord', 'Discord (webhook)'],
  ['webhook', 'Webhook (signed JSON)'],
] as const;

export default function Channels() {
  const channels = useAsync((signal) => api.get('/api/alert-channels', { signal }), []);
  const [name, setName] = useState('');
  const [kind, setKind] = useState('email');
  const [target, setTarget] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);

  async function add(e: Event) {
    e.preventDefault();
    setError(null);
    setMessage(null);
    try {
      const created = await api.post('/api/alert-channels', {
        body: { name, kind: kind as Schemas['NewChannel']['kind'], to: kind === 'email' ? target : null, url: kind === 'email' ? null : target },
      });
      setSecret(created.secret ?? null);
      setName('');
      setTarget('');
      channels.reload();
    } catch (x) {
      setError(x);
    }
  }

  async function test(id: string, channelName: string) {
    setError(null);
    setMessage(null);
    try {
      const d = await api.post('/api/alert-channels/{id}/test', { params: { id } });
      setMessage(d.status === 'sent' ? `Test sent to ${channelName}.` : `Test to ${channelName}: ${d.status}${d.last_error ? ` (${d.last_error})` : ''}.`);
    } catch (x) {
      setError(x);
    }
  }

  async function remove(id: string) {
    setError(null);
    try {
      await api.del('/api/alert-channels/{id}', { params: { id } });
      channels.reload();
    } catch (x) {
      setError(x);
    }
  }

  const targetField = kind === 'email' ? 'to' : 'url';
  return (
    <section>
      <PageHeader title="Alert channels">
        <a class="button button-secondary" href="/alerts/deliveries">
          Delivery log
        </a>
      </PageHeader>
      {message && <Notice kind="success">{message}</Notice>}
      {secret && (
        <div class="notice notice-warning" role="status">
          <label for="webhook-secret">Signing secret of the new webhook (shown only now)</label>
          <input id="webhook-secret" class="secret" readOnly value={secret} />
        </div>
      )}
      {!isFieldError(error, ['name', 'kind', 'to', 'url']) && <ErrorNotice error={error} />}
      <ErrorNotice error={channels.error} />
      {channels.loading && !channels.data && <Loading />}
      {channels.data && channels.data.length === 0 && <p class="muted">No channels yet: nobody is alerted.</p>}
      <ul class="cards">
        {(channels.data ?? []).map((c) => (
          <li key={c.id} class="card">
            <h2 class="card-title">{c.name}</h2>
            <p class="muted">
              {KINDS.find(([k]) => k === c.kind)?.[1] ?? c.kind} · {c.to ?? c.url ?? ''} {c.enabled ? '' : '· disabled'}
            </p>
            <button type="button" class="button button-secondary" onClick={() => void test(c.id, c.name)}>
              Send test <span class="visually-hidden">to {c.name}</span>
            </button>{' '}
            <button type="button" class="button button-danger" onClick={() => void remove(c.id)}>
              Delete <span class="visually-hidden">{c.name}</span>
            </button>
          </li>
        ))}
      </ul>
      <h2>Add a channel</h2>
      <form class="inline-form" onSubmit={(e) => void add(e)} noValidate>
        <Field name="name" label="Name" required value={name} onInput={setName} error={fieldError(error, 'name')} />
        <SelectField name="kind" label="Kind" value={kind} options={KINDS} onChange={setKind} error={fieldError(error, 'kind')} />
        <Field
          name={targetField}
          label={kind === 'email' ? 'Email address' : 'Webhook URL'}
          type={kind === 'email' ? 'email' : 'url'}
          required
          value={target}
          onInput={setTarget}
          error={fieldError(error, targetField)}
        />
        <button class="button button-primary" type="submit">
          Add channel
        </button>
      </form>
    </section>
  );
}
