import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/http';
import { nextStatus, resolveText } from './IncidentDetail';
import {
  componentInput,
  componentValues,
  errorFor,
  formError,
  incidentInput,
  incidentPatch,
  incidentValues,
  localTime,
  pageInput,
  pageValues,
  patchValues,
  sentence,
  toLocalInput,
  toggle,
  type Component,
  type PublicIncident,
} from './forms';
import { editorPath, incidentPath, publicUrls } from './links';

const component: Component = {
  id: 'c1',
  page_id: 'p1',
  group_id: 'g1',
  name: 'API',
  description: '',
  position: 2,
  manual_status: null,
  monitor_ids: ['m1', 'm2'],
  only_show_if_degraded: false,
  showcase: true,
  created_at: 1,
  updated_at: 1,
};

describe('API errors in words', () => {
  it('names the field when the API words the error as a predicate', () => {
    expect(sentence('title', 'is required')).toBe('Title is required.');
    expect(sentence('title', 'title: is required')).toBe('Title is required.');
    expect(sentence('scheduled_until', 'scheduled_until: must be after scheduled_for')).toBe('Ends must be after starts.');
    expect(sentence('name', 'names: are odd')).toBe('Names: are odd.');
    expect(sentence('logo_url', 'must be an https URL')).toBe('Logo URL must be an https URL.');
    expect(sentence('body', 'an incident may have at most 100 updates')).toBe('An incident may have at most 100 updates.');
    expect(sentence('monitor_ids', 'bind at least one monitor or set manual_status')).toBe('Bind at least one monitor or set status.');
    expect(sentence('monitor_incident_id', 'is already published on this status page')).toBe('Monitor incident is already published on this status page.');
  });

  it('keeps full sentences and unknown fields as they are, capitalised and ended', () => {
    expect(sentence('monitor_ids', 'Choose at least one monitor, or set the status by hand.')).toBe('Choose at least one monitor, or set the status by hand.');
    expect(sentence('weird', 'is odd')).toBe('Is odd.');
    expect(sentence(undefined, 'something broke!')).toBe('Something broke!');
  });

  it('puts a field error beside its field and nowhere else', () => {
    const err = new ApiError(422, 'invalid', 'title: must be at most 100 characters', 'title');
    expect(errorFor(err, 'title')).toBe('Title must be at most 100 characters.');
    expect(errorFor(err, 'description')).toBeUndefined();
    expect(formError(err, ['title'])).toBeNull();
    expect(formError(null, ['title'])).toBeNull();
  });

  it('shows an error for a field the form lacks at the top, as a sentence', () => {
    const err = new ApiError(409, 'conflict', 'is assigned to another status page', 'domain_id');
    const top = formError(err, ['title']);
    expect(top).toBeInstanceOf(ApiError);
    expect((top as ApiError).message).toBe('Custom domain is assigned to another status page.');
    const plain = new ApiError(500, 'internal', 'Something went wrong.');
    expect(formError(plain, ['title'])).toBe(plain);
    expect(errorFor(new Error('x'), 'title')).toBeUndefined();
  });
});

describe('page settings', () => {
  it('clears the logo and the domain when emptied, and only ever sets the default', () => {
    const v = { ...pageValues(), title: '  Acme status ', description: ' Hello ', logo_url: '  ', domain_id: '' };
    expect(pageInput(v)).toEqual({ title: 'Acme status', description: 'Hello', logo_url: null, domain_id: null });
    expect(pageInput({ ...v, is_default: true, logo_url: 'https://cdn.example/l.png', domain_id: 'd1' })).toEqual({
      title: 'Acme status',
      description: 'Hello',
      logo_url: 'https://cdn.example/l.png',
      domain_id: 'd1',
      is_default: true,
    });
  });
});

describe('component form', () => {
  it('reads a monitor-bound and a manual component', () => {
    expect(componentValues(component)).toMatchObject({ source: 'monitors', monitor_ids: ['m1', 'm2'], group_id: 'g1' });
    expect(componentValues({ ...component, manual_status: 'partial_outage', monitor_ids: [] })).toMatchObject({ source: 'manual', manual_status: 'partial_outage' });
    expect(componentValues(undefined, 'g2')).toMatchObject({ source: 'monitors', group_id: 'g2', showcase: true, manual_status: 'operational' });
  });

  it('sends monitors and clears the manual status, or the reverse', () => {
    const v = componentValues(component);
    expect(componentInput({ ...v, name: ' API ' }, 3)).toEqual({
      name: 'API',
      description: '',
      group_id: 'g1',
      only_show_if_degraded: false,
      showcase: true,
      monitor_ids: ['m1', 'm2'],
      manual_status: null,
      position: 3,
    });
    const manual = componentInput({ ...v, source: 'manual', manual_status: 'major_outage', group_id: '' });
    expect(manual).toMatchObject({ monitor_ids: [], manual_status: 'major_outage', group_id: null });
    expect(manual).not.toHaveProperty('position');
  });

  it('refuses a monitor-bound component without monitors, naming the field', () => {
    const err = (() => {
      try {
        componentInput({ ...componentValues(), name: 'X' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).field).toBe('monitor_ids');
  });

  it('toggles ids without duplicates', () => {
    expect(toggle(['a'], 'b', true)).toEqual(['a', 'b']);
    expect(toggle(['a', 'b'], 'a', true)).toEqual(['b', 'a']);
    expect(toggle(['a', 'b'], 'a', false)).toEqual(['b']);
  });
});

describe('incident form', () => {
  it('opens an incident with its first update', () => {
    const v = { ...incidentValues('incident'), title: ' Slow logins ', body: ' Looking into it ', component_ids: ['c1'] };
    expect(incidentInput(v)).toEqual({ kind: 'incident', title: 'Slow logins', impact: 'minor', status: 'investigating', body: 'Looking into it', component_ids: ['c1'] });
  });

  it('schedules a maintenance in local time and names a missing time', () => {
    const v = { ...incidentValues('maintenance'), title: 'DB', body: 'Upgrade', scheduled_for: '2030-01-02T03:04', scheduled_until: '2030-01-02T05:00' };
    const body = incidentInput(v);
    expect(body).toMatchObject({ kind: 'maintenance', impact: 'maintenance', status: 'scheduled' });
    expect(body.scheduled_for).toBe(new Date(2030, 0, 2, 3, 4).getTime());
    expect(() => incidentInput({ ...v, scheduled_until: '' })).toThrow(expect.objectContaining({ field: 'scheduled_until' }));
    expect(() => localTime('scheduled_for', 'soon')).toThrow(expect.objectContaining({ field: 'scheduled_for' }));
  });

  it('round-trips local times for the edit form', () => {
    const ms = new Date(2031, 5, 7, 8, 9).getTime();
    expect(toLocalInput(ms)).toBe('2031-06-07T08:09');
    expect(localTime('x', toLocalInput(ms))).toBe(ms);
    expect(toLocalInput(null)).toBe('');
  });

  it('edits title, impact and components (and the schedule of a maintenance)', () => {
    const base: PublicIncident = {
      id: 'i1',
      page_id: 'p1',
      kind: 'incident',
      title: 'Slow',
      impact: 'major',
      status: 'identified',
      component_ids: ['c1'],
      started_at: 1,
      created_at: 1,
      updated_at: 1,
      updates: [],
    };
    expect(incidentPatch({ ...patchValues(base), title: 'Slower ' })).toEqual({ title: 'Slower', impact: 'major', component_ids: ['c1'] });
    const m = { ...base, kind: 'maintenance' as const, impact: 'maintenance' as const, scheduled_for: new Date(2030, 0, 1, 10, 0).getTime(), scheduled_until: new Date(2030, 0, 1, 11, 0).getTime() };
    expect(incidentPatch(patchValues(m))).toMatchObject({ scheduled_for: m.scheduled_for, scheduled_until: m.scheduled_until });
  });

  it('suggests the next status and words the one-click resolve', () => {
    expect(nextStatus({ kind: 'incident', status: 'investigating' })).toBe('identified');
    expect(nextStatus({ kind: 'incident', status: 'resolved' })).toBe('resolved');
    expect(nextStatus({ kind: 'maintenance', status: 'scheduled' })).toBe('in_progress');
    expect(resolveText('incident')).toMatch(/resolved/);
    expect(resolveText('maintenance')).toMatch(/completed/);
  });
});

describe('links', () => {
  const https = { protocol: 'https:', port: '' };
  it('gives the default page at /status/ of the subdomain, with the app port', () => {
    expect(publicUrls({ is_default: true, hostname: null }, 'acme.localhost', { protocol: 'https:', port: '8443' })).toEqual(['https://acme.localhost:8443/status/']);
    expect(publicUrls({ is_default: true, hostname: null }, 'acme.status.example', { protocol: 'https:', port: '443' })).toEqual(['https://acme.status.example/status/']);
  });

  it('puts a custom domain first, and has nothing for a page that is not public', () => {
    expect(publicUrls({ is_default: true, hostname: 'status.acme.com' }, 'acme.example', https)).toEqual(['https://status.acme.com/', 'https://acme.example/status/']);
    expect(publicUrls({ is_default: false, hostname: 'status.acme.com' }, 'acme.example', https)).toEqual(['https://status.acme.com/']);
    expect(publicUrls({ is_default: false, hostname: null }, 'acme.example', https)).toEqual([]);
    expect(publicUrls({ is_default: true, hostname: null }, undefined, https)).toEqual([]);
  });

  it('never builds an editor path under /status/', () => {
    expect(editorPath('a/b')).toBe('/status-pages/a%2Fb');
    expect(editorPath('p', 'components')).toBe('/status-pages/p/components');
    expect(incidentPath('p', 'i 1')).toBe('/status-pages/p/incidents/i%201');
  });
});
