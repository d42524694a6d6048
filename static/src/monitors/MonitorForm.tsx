//! Create or edit a monitor of any kind; the API's per-field errors appear beside the field.

import { useState } from 'preact/hooks';
import { ApiError } from '../api/http';
import type { Monitor } from '../api/models';
import { CheckField, ErrorNotice, Field, SelectField, fieldError } from '../ui/components';
import { COMMON_FIELDS, KIND_FIELDS, KINDS, defaults, toInput, type FormValues, type Kind } from './form';

const KIND_NAMES: Record<Kind, string> = {
  http: 'HTTP(S) endpoint',
  tcp: 'TCP port',
  dns: 'DNS record',
  tls: 'TLS certificate expiry',
  heartbeat: 'Heartbeat (cron job pings us)',
};

export function MonitorForm(props: {
  initial: FormValues;
  editing: boolean;
  submitLabel: string;
  onSubmit: (body: ReturnType<typeof toInput>) => Promise<Monitor>;
  onDone: (m: Monitor) => void;
}) {
  const [v, setV] = useState<FormValues>(props.initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const kind = (KINDS.find((k) => k === v.kind) ?? 'http') as Kind;
  const shown = new Set<string>([...COMMON_FIELDS, ...KIND_FIELDS[kind]]);
  const set = (k: string) => (x: string) => setV((old) => ({ ...old, [k]: x }));
  const err = (k: string) => fieldError(error, k);
  const text = (name: string, label: string, extra: { hint?: string; type?: string; required?: boolean } = {}) =>
    shown.has(name) && (
      <Field name={name} label={label} value={v[name] ?? ''} onInput={set(name)} error={err(name)} hint={extra.hint} type={extra.type} required={extra.required} />
    );

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const m = await props.onSubmit(toInput(v, props.editing));
      props.onDone(m);
    } catch (x) {
      setError(x);
      // Focus the field at fault so keyboard users land on it.
      if (x instanceof ApiError && x.field) window.setTimeout(() => document.getElementById(`f-${x.field ?? ''}`)?.focus(), 0);
    } finally {
      setBusy(false);
    }
  }

  const formLevel = error && !(error instanceof ApiError && error.field && shown.has(error.field));
  return (
    <form class="monitor-form" onSubmit={(e) => void submit(e)} noValidate>
      {formLevel && <ErrorNotice error={error} />}
      {error instanceof ApiError && error.field && shown.has(error.field) && (
        <div class="notice notice-error" role="alert">
          Please correct the field marked below.
        </div>
      )}
      <fieldset>
        <legend>What to check</legend>
        {!props.editing && (
          <SelectField name="kind" label="Kind" value={kind} options={KINDS.map((k) => [k, KIND_NAMES[k]] as const)} onChange={(k) => setV((old) => ({ ...defaults(k as Kind), name: old.name ?? '' }))} error={err('kind')} />
        )}
        {text('name', 'Name', { required: true })}
        {text('url', 'URL', { type: 'url', required: true })}
        {shown.has('method') && (
          <SelectField name="method" label="Method" value={v.method ?? 'GET'} options={['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => [m, m] as const)} onChange={set('method')} error={err('method')} />
        )}
        {text('host', 'Host', { required: true, hint: kind === 'dns' ? 'The name to resolve, e.g. example.com.' : 'Hostname or IP address.' })}
        {text('port', 'Port', { type: 'number', required: kind === 'tcp' })}
        {shown.has('record_type') && (
          <SelectField name="record_type" label="Record type" value={v.record_type ?? 'A'} options={['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS'].map((t) => [t, t] as const)} onChange={set('record_type')} error={err('record_type')} />
        )}
        {text('expected_answer', 'Expected answer', { hint: 'Optional: one of the answers must equal this.' })}
        {text('warn_days', 'Warn days before expiry', { type: 'number' })}
        {text('grace_seconds', 'Grace period (seconds)', { type: 'number', hint: 'How long after a missed ping the monitor goes down.' })}
      </fieldset>
      <fieldset>
        <legend>Schedule</legend>
        {text('interval_seconds', 'Check every (seconds)', { type: 'number' })}
        {kind !== 'heartbeat' && text('timeout_seconds', 'Timeout (seconds)', { type: 'number' })}
        {text('confirmations', 'Failed checks before down', { type: 'number', hint: '1–10' })}
      </fieldset>
      {kind === 'http' && (
        <fieldset>
          <legend>Response checks (optional)</legend>
          {text('expected_status', 'Expected status codes', { hint: 'Comma-separated, e.g. 200, 204. Empty: any 2xx.' })}
          {text('keyword', 'Body must contain')}
          {text('keyword_absent', 'Body must not contain')}
          {text('json_path', 'JSON path', { hint: 'e.g. $.status' })}
          {text('json_equals', 'JSON value at that path', { hint: 'A JSON value, e.g. "ok".' })}
          {text('max_latency_ms', 'Degraded above (ms)', { type: 'number' })}
          <div class={`field${err('headers') ? ' field-invalid' : ''}`}>
            <label for="f-headers">Request headers</label>
            <textarea id="f-headers" name="headers" rows={3} value={v.headers} aria-describedby={err('headers') ? 'f-headers-err' : 'f-headers-hint'} aria-invalid={err('headers') ? true : undefined} onInput={(e) => set('headers')(e.currentTarget.value)} />
            <p class="field-hint" id="f-headers-hint">
              One per line: Name: value
            </p>
            {err('headers') && (
              <p class="field-error" id="f-headers-err">
                {err('headers')}
              </p>
            )}
          </div>
          <div class={`field${err('body') ? ' field-invalid' : ''}`}>
            <label for="f-body">Request body</label>
            <textarea id="f-body" name="body" rows={3} value={v.body} aria-invalid={err('body') ? true : undefined} onInput={(e) => set('body')(e.currentTarget.value)} />
            {err('body') && <p class="field-error">{err('body')}</p>}
          </div>
          <CheckField name="follow_redirects" label="Follow redirects" checked={v.follow_redirects === 'true'} onChange={(c) => set('follow_redirects')(String(c))} error={err('follow_redirects')} />
          <CheckField name="verify_tls" label="Verify the TLS certificate" checked={v.verify_tls === 'true'} onChange={(c) => set('verify_tls')(String(c))} error={err('verify_tls')} />
        </fieldset>
      )}
      <button class="button button-primary" type="submit" disabled={busy}>
        {props.submitLabel}
      </button>
    </form>
  );
}
