//! `/status-pages/:id/maintenance`: scheduled maintenance announced on the page.

import type { PageProps } from '../app/pages';
import { KindTab } from './PageIncidents';

export default function PageMaintenance({ params }: PageProps) {
  return <KindTab id={params.id ?? ''} kind="maintenance" />;
}
