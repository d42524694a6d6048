//! The monitor form's values ↔ the API's `MonitorInput` (pure, unit-tested).

import { ApiError } from '../api/http';
import type { Monitor, MonitorInput } from '../api/models';

export const KINDS = ['http', 'tcp', 'dns', 'tls', 'heartbeat'] as const;
export type Kind = (typeof KINDS)[number];

/** Every form value as text (checkboxes as 'true'/'false'). */
export type FormValues = Record<string, string>;

/** Fields each kind shows, beyond the common ones. */
export const KIND_FIELDS: Record<Kind, readonly string[]> = {
  http: ['url', 'method', 'expected_status', 'keyword', 'keyword_absent', 'json_path', 'json_equals', 'max_latency_ms', 'headers', 'body', 'follow_redirects', 'verify_tls'],
  tcp: ['host', 'port'],
  dns: ['host', 'record_type', 'expected_answer'],
  tls: ['host', 'port', 'warn_days'],
  heartbeat: ['grace_seconds'],
};
export const COMMON_FIELDS = ['name', 'kind', 'interval_seconds', 'timeout_seconds', 'confirmations'] as const;

const NUMBER_FIELDS = new Set(['interval_seconds', 'timeout_seconds', 'confirmations', 'port', 'max_latency_ms', 'warn_days', 'grace_seconds']);
const BOOL_FIELDS = new Set(['follow_redirects', 'verify_tls']);

export function defaults(kind: Kind = 'http'): FormValues {
  return {
    name: '',
    kind,
    interval_seconds: '60',
    timeout_seconds: '10',
    confirmations: '2',
    url: 'https://',
    method: 'GET',
    expected_status: '',
    keyword: '',
    keyword_absent: '',
    json_path: '',
    json_equals: '',
    max_latency_ms: '',
    headers: '',
    body: '',
    follow_redirects: 'true',
    verify_tls: 'true',
    host: '',
    port: kind === 'tls' ? '443' : '',
    record_type: 'A',
    expected_answer: '',
    warn_days: '14',
    grace_seconds: '60',
  };
}

/** Form values from an existing monitor. */
export function fromMonitor(m: Monitor): FormValues {
  const v = defaults(KINDS.find((k) => k === m.kind) ?? 'http');
  const raw = m as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    const x = raw[key];
    if (x === undefined || x === null) {
      if (key === 'url' || key === 'port') v[key] = '';
      continue;
    }
    if (key === 'headers' && typeof x === 'object') {
      v.headers = Object.entries(x as Record<string, string>).map(([k, val]) => `${k}: ${val}`).join('\n');
    } else if (key === 'expected_status' && Array.isArray(x)) {
      v.expected_status = x.join(', ');
    } else if (key === 'json_equals') {
      v.json_equals = JSON.stringify(x);
    } else {
      v[key] = String(x);
    }
  }
  return v;
}

function invalid(field: string, message: string): ApiError {
  return new ApiError(422, 'invalid', message, field);
}

/** Builds the request body, or throws an `ApiError` naming the field at fault. */
export function toInput(v: FormValues, forUpdate: boolean): MonitorInput {
  const kind = KINDS.find((k) => k === v.kind);
  if (!kind) throw invalid('kind', 'Choose what kind of monitor this is.');
  const out: Record<string, unknown> = {};
  const fields = [...COMMON_FIELDS, ...KIND_FIELDS[kind]];
  for (const f of fields) {
    if (forUpdate && f === 'kind') continue;
    const text = (v[f] ?? '').trim();
    if (BOOL_FIELDS.has(f)) {
      out[f] = text === 'true';
    } else if (NUMBER_FIELDS.has(f)) {
      if (text === '') continue;
      if (!/^\d+$/.test(text)) throw invalid(f, 'Enter a whole number.');
      out[f] = Number(text);
    } else if (f === 'expected_status') {
      if (text === '') continue;
      const codes = text.split(/[\s,]+/).filter(Boolean);
      if (!codes.every((c) => /^\d{3}$/.test(c))) throw invalid(f, 'List HTTP status codes separated by commas, e.g. 200, 204.');
      out[f] = codes.map(Number);
    } else if (f === 'headers') {
      if (text === '') continue;
      const headers: Record<string, string> = {};
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const i = line.indexOf(':');
        if (i <= 0) throw invalid(f, `Write each header as "Name: value" on its own line ("${line.trim()}" has no colon).`);
        headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      out[f] = headers;
    } else if (f === 'json_equals') {
      if (text === '') continue;
      try {
        out[f] = JSON.parse(text) as unknown;
      } catch {
        throw invalid(f, 'Enter a JSON value, e.g. "ok", 1 or true.');
      }
    } else {
      if (text === '' && f !== 'name') continue;
      out[f] = text;
    }
  }
  return out as MonitorInput;
}
