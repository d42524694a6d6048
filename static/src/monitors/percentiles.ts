//! Latency percentiles per time bucket from raw check results (pure, unit-tested).

export interface Point {
  at: number;
  latency: number | null;
  ok: boolean;
}

export interface Bucket {
  /** Bucket start, seconds since the epoch (uPlot's x unit). */
  t: number;
  p50: number | null;
  p95: number | null;
  checks: number;
  failures: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

/** Groups points into buckets of `bucketMs` from `from` to `to` (every bucket present, empty ones null). */
export function bucketize(points: readonly Point[], from: number, to: number, bucketMs: number): Bucket[] {
  const start = Math.floor(from / bucketMs) * bucketMs;
  const n = Math.max(0, Math.ceil((to - start) / bucketMs));
  const lat: number[][] = Array.from({ length: n }, () => []);
  const checks = new Array<number>(n).fill(0);
  const failures = new Array<number>(n).fill(0);
  for (const p of points) {
    const i = Math.floor((p.at - start) / bucketMs);
    if (i < 0 || i >= n) continue;
    checks[i] = (checks[i] ?? 0) + 1;
    if (!p.ok) failures[i] = (failures[i] ?? 0) + 1;
    else if (p.latency !== null) lat[i]?.push(p.latency);
  }
  return lat.map((values, i) => {
    const sorted = values.sort((a, b) => a - b);
    return {
      t: (start + i * bucketMs) / 1000,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      checks: checks[i] ?? 0,
      failures: failures[i] ?? 0,
    };
  });
}
