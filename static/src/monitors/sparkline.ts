//! Sparkline geometry: latencies → SVG polyline points (pure, unit-tested).

/** Points for a polyline in a `width`×`height` box; failed checks (null) break nothing and are returned separately as x positions. */
export function sparkPoints(values: readonly (number | null)[], width: number, height: number): { line: string; failures: number[] } {
  const n = values.length;
  if (n === 0) return { line: '', failures: [] };
  const nums = values.filter((v): v is number => v !== null);
  const max = nums.length ? Math.max(...nums) : 1;
  const min = nums.length ? Math.min(...nums) : 0;
  const span = max - min || 1;
  const step = n > 1 ? width / (n - 1) : 0;
  const pts: string[] = [];
  const failures: number[] = [];
  values.forEach((v, i) => {
    const x = n > 1 ? i * step : width / 2;
    if (v === null) {
      failures.push(Math.round(x * 10) / 10);
      return;
    }
    // 2 px padding top and bottom so the stroke is not clipped.
    const y = height - 2 - ((v - min) / span) * (height - 4);
    pts.push(`${Math.round(x * 10) / 10},${Math.round(y * 10) / 10}`);
  });
  return { line: pts.join(' '), failures };
}
