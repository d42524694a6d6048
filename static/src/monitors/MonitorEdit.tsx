//! `/monitors/:id/edit`.

import { api } from '../api';
import type { PageProps } from '../app/pages';
import { navigate } from '../router/history';
import { ErrorNotice, Loading, PageHeader } from '../ui/components';
import { useAsync } from '../ui/useAsync';
import { MonitorForm } from './MonitorForm';
import { fromMonitor } from './form';
import { forget } from './summaries';

export default function MonitorEdit({ params }: PageProps) {
  const id = params.id ?? '';
  const m = useAsync((signal) => api.get('/api/monitors/{id}', { params: { id }, signal }), [id]);
  return (
    <section>
      <PageHeader title={m.data ? `Edit ${m.data.name}` : 'Edit monitor'} />
      <ErrorNotice error={m.error} />
      {m.loading && !m.data && <Loading />}
      {m.data && (
        <MonitorForm
          initial={fromMonitor(m.data)}
          editing
          submitLabel="Save changes"
          onSubmit={(body) => api.patch('/api/monitors/{id}', { params: { id }, body })}
          onDone={() => {
            forget(id);
            navigate(`/monitors/${encodeURIComponent(id)}`);
          }}
        />
      )}
    </section>
  );
}
