import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface PlotSeries {
  label: string;
  values: (number | null)[];
  stroke: string;
  /** Points only, no line (e.g. one latency per delivery). */
  points?: boolean;
}

/**
 * A uPlot chart over `x` (Unix seconds). The canvas is described by `label` for assistive
 * technology; the same figures are in the tables beside it.
 */
export function Plot({
  label,
  x,
  series,
  yLabel,
}: {
  label: string;
  x: number[];
  series: PlotSeries[];
  yLabel: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const target = ref.current;
    if (!target) return;
    const chart = new uPlot(
      {
        width: Math.max(320, Math.min(720, target.clientWidth || 720)),
        height: 220,
        legend: { show: true },
        axes: [{}, { label: yLabel }],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: 2,
            ...(s.points ? { paths: () => null, points: { show: true, size: 6, fill: s.stroke } } : {}),
          })),
        ],
      },
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      target,
    );
    return () => chart.destroy();
  }, [x, series, yLabel]);
  return (
    <figure class="plot">
      <div ref={ref} role="img" aria-label={label} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}
