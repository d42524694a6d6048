//! Small shared pieces: form fields with their errors, notices, state badges.

import { h, type ComponentChildren } from 'preact';
import { ApiError } from '../api/http';

/** Words for any error: the API's message, or a generic sentence. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const text = err.message.charAt(0).toUpperCase() + err.message.slice(1);
    return /[.!?]$/.test(text) ? text : `${text}.`;
  }
  if (err instanceof Error && err.message) return `Something went wrong: ${err.message}`;
  return 'Something went wrong. Please try again.';
}

/** A form-level error (or one for a field not on the form). */
export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  // A plan limit (402) says which plan lifts it; the billing page is where to get it.
  const limit = error instanceof ApiError && error.code === 'plan_limit';
  return (
    <div class="notice notice-error" role="alert">
      {errorText(error)}
      {limit && (
        <>
          {' '}
          <a href="/settings/billing">{error.plan ? 'See plans and upgrade' : 'See your plan'}</a>
        </>
      )}
    </div>
  );
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'success' | 'warning'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role="status">
      {children}
    </div>
  );
}

/** The error for `name` when the API named that field. */
export function fieldError(err: unknown, name: string): string | undefined {
  return err instanceof ApiError && err.field === name ? err.message : undefined;
}

/** True when the API's error names a field the form shows (so no form-level notice is needed). */
export function isFieldError(err: unknown, fields: readonly string[]): boolean {
  return err instanceof ApiError && err.field !== undefined && fields.includes(err.field);
}

/** A labelled input whose API error sits right below it. */
export function Field(props: {
  label: string;
  name: string;
  value: string;
  onInput: (v: string) => void;
  error?: string | undefined;
  hint?: ComponentChildren;
  type?: string;
  required?: boolean;
  autoComplete?: string;
}) {
  const id = `f-${props.name}`;
  const described = [props.hint ? `${id}-hint` : '', props.error ? `${id}-err` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field${props.error ? ' field-invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      {h('input', {
        id,
        name: props.name,
        type: props.type ?? 'text',
        value: props.value,
        required: props.required,
        autocomplete: props.autoComplete,
        'aria-invalid': props.error ? true : undefined,
        'aria-describedby': described || undefined,
        onInput: (e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value),
      } as never)}
      {props.hint && (
        <p class="field-hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={`${id}-err`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** A labelled multi-line text input whose API error sits right below it. */
export function TextAreaField(props: {
  label: string;
  name: string;
  value: string;
  onInput: (v: string) => void;
  error?: string | undefined;
  hint?: ComponentChildren;
  rows?: number;
  required?: boolean;
}) {
  const id = `f-${props.name}`;
  const described = [props.hint ? `${id}-hint` : '', props.error ? `${id}-err` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field${props.error ? ' field-invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        name={props.name}
        class="textarea-prose"
        rows={props.rows ?? 3}
        value={props.value}
        required={props.required}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={described || undefined}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      {props.hint && (
        <p class="field-hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={`${id}-err`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** A labelled select. */
export function SelectField(props: {
  label: string;
  name: string;
  value: string;
  options: readonly (readonly [string, string])[];
  onChange: (v: string) => void;
  error?: string | undefined;
}) {
  const id = `f-${props.name}`;
  return (
    <div class={`field${props.error ? ' field-invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        value={props.value}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-err` : undefined}
        onChange={(e) => props.onChange(e.currentTarget.value)}
      >
        {props.options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
      {props.error && (
        <p class="field-error" id={`${id}-err`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** A labelled checkbox. */
export function CheckField(props: { label: string; name: string; checked: boolean; onChange: (v: boolean) => void; error?: string | undefined }) {
  const id = `f-${props.name}`;
  return (
    <div class="field field-check">
      <input id={id} type="checkbox" name={props.name} checked={props.checked} onChange={(e) => props.onChange(e.currentTarget.checked)} />
      <label for={id}>{props.label}</label>
      {props.error && <p class="field-error">{props.error}</p>}
    </div>
  );
}

const STATE_WORDS: Record<string, string> = {
  up: 'Up',
  down: 'Down',
  degraded: 'Degraded',
  pending: 'Pending',
  paused: 'Paused',
};

/** A monitor state as a coloured badge with its word (never colour alone). */
export function StateBadge({ state }: { state: string }) {
  return <span class={`badge badge-${state}`}>{STATE_WORDS[state] ?? state}</span>;
}

/** "Loading…" that screen readers announce. */
export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="loading" role="status">
      {what}…
    </p>
  );
}

/** Page heading block. */
export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="page-header">
      <h1>{title}</h1>
      {children && <div class="page-actions">{children}</div>}
    </div>
  );
}
