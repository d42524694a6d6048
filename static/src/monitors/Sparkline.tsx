//! A fixed-size latency sparkline (SVG), so live updates never shift the layout.

import { sparkPoints } from './sparkline';

const W = 100;
const H = 24;

export function Sparkline({ values, label }: { values: readonly (number | null)[]; label: string }) {
  const { line, failures } = sparkPoints(values, W, H);
  return (
    <svg class="spark" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
      {line && <polyline points={line} fill="none" class="spark-line" stroke-width="1.5" />}
      {failures.map((x) => (
        <line key={x} x1={x} x2={x} y1={0} y2={H} class="spark-fail" stroke-width="1.5" />
      ))}
    </svg>
  );
}
