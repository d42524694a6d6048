//! Response-time chart (p50 and p95 per bucket) drawn by uPlot, loaded only on
//! the detail page; redrawn in place when data changes.

import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import type { Bucket } from './percentiles';

export function LatencyChart({ buckets }: { buckets: Bucket[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [failed, setFailed] = useState(false);
  const [scheme, setScheme] = useState(0);

  // Colours are fixed when a chart is made: rebuild it when the scheme flips.
  useEffect(() => {
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => {
      plot.current?.destroy();
      plot.current = null;
      setScheme((n) => n + 1);
    };
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, []);

  useEffect(() => {
    let live = true;
    const data: uPlot.AlignedData = [buckets.map((b) => b.t), buckets.map((b) => b.p50), buckets.map((b) => b.p95)];
    if (plot.current) {
      plot.current.setData(data);
      return;
    }
    Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')])
      .then(([{ default: UPlot }]) => {
        if (!live || !box.current) return;
        const width = Math.max(240, box.current.clientWidth);
        const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
        const axis = { stroke: dark ? '#c9d1d9' : '#334155', grid: { stroke: dark ? '#30363d' : '#e2e8f0' } };
        plot.current = new UPlot(
          {
            width,
            height: 220,
            series: [
              {},
              { label: 'p50', stroke: '#2563eb', width: 2, value: (_u, v) => (v === null ? '—' : `${v} ms`) },
              { label: 'p95', stroke: '#d97706', width: 2, value: (_u, v) => (v === null ? '—' : `${v} ms`) },
            ],
            axes: [axis, { ...axis, label: 'ms' }],
            scales: { x: { time: true } },
          },
          data,
          box.current,
        );
      })
      .catch(() => setFailed(true));
    return () => {
      live = false;
    };
  }, [buckets, scheme]);

  useEffect(() => {
    const el = box.current;
    // Follows the box's width (window resize, rotated phone, nav opening).
    const observer = new ResizeObserver(() => {
      if (plot.current && el) plot.current.setSize({ width: Math.max(240, el.clientWidth), height: 220 });
    });
    if (el) observer.observe(el);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  if (failed) return <p class="notice notice-error">The chart could not be loaded; reload the page.</p>;
  return <div class="chart" ref={box} role="img" aria-label="Response time, p50 and p95 per hour over the last 24 hours" />;
}
