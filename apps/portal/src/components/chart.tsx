import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: Array<number | null>;
  stroke: string;
  unit?: string;
}

/**
 * A line chart (uPlot, canvas) of a subscription's buckets. A canvas says
 * nothing to a screen reader, so the same figures are in a table beside it
 * (`summary`), and the chart is labelled as an image of them.
 */
export function TimeChart({ title, times, series, yRange }: { title: string; times: number[]; series: Series[]; yRange?: [number, number] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(320, Math.min(el.clientWidth || 640, 900)),
      height: 220,
      legend: { show: true },
      cursor: { show: true },
      scales: { x: { time: true }, y: yRange ? { range: yRange } : { auto: true } },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => `${t}${series[0]?.unit ?? ''}`) }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: false, points: { show: true, size: 5 } }))],
    };
    const data: uPlot.AlignedData = [times, ...series.map((s) => s.values)];
    const plot = new uPlot(opts, data, el);
    return () => plot.destroy();
  }, [times, series, yRange]);
  return (
    <div className="chart" role="img" aria-label={`${title}: ${series.map((s) => s.label).join(', ')} over time (figures in the table below)`} ref={box} />
  );
}
