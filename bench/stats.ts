/**
 * Pure statistics and reporting helpers for the benchmarks: percentiles, figures with their
 * same-run baseline and ratio, and the printed table. Nothing here measures anything.
 */

/** One reported number, always next to a baseline measured in the same run (machines are noisy). */
export interface Figure {
  name: string;
  unit: string;
  value: number;
  /** The same quantity for the baseline; `null` when the figure has no meaningful baseline. */
  baseline: number | null;
  /** `value / baseline`, or `null` without a baseline. */
  ratio: number | null;
  /** The target in words (e.g. `ratio <= 3`), `null` when the figure is informational. */
  target: string | null;
  /** Whether the target is met; `null` when there is no target. */
  met: boolean | null;
  /** What the baseline is, the sample size, the window: whatever a reader needs to trust the number. */
  note?: string;
}

export interface FigureInput {
  name: string;
  unit: string;
  value: number;
  baseline?: number | null;
  note?: string;
  /** Target and the check that decides it, given the finished figure. */
  target?: { text: string; met: (figure: { value: number; baseline: number | null; ratio: number | null }) => boolean };
}

/** Builds a figure, computing the ratio and whether the target is met. */
export function figure(input: FigureInput): Figure {
  const baseline = input.baseline ?? null;
  const ratio = baseline === null || baseline === 0 ? null : input.value / baseline;
  const met = input.target ? input.target.met({ value: input.value, baseline, ratio }) : null;
  return {
    name: input.name,
    unit: input.unit,
    value: input.value,
    baseline,
    ratio,
    target: input.target?.text ?? null,
    met,
    ...(input.note ? { note: input.note } : {}),
  };
}

/**
 * The `p`-th percentile (0–100) by the nearest-rank method: always one of the samples, so a p99 of
 * 1,000 samples is the 990th smallest. Throws on an empty sample, which is a bug in the caller.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** The median: the mean of the two middle samples for an even count. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError('median of an empty sample');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summary of an empty sample');
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const s of samples) {
    sum += s;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  return {
    count: samples.length,
    min,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    max,
    mean: sum / samples.length,
  };
}

/** Rounds for display: three significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(value: number | null): string {
  if (value === null) return '-';
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** The figures as a fixed-width text table, one line per figure. */
export function formatTable(figures: readonly Figure[]): string {
  const header = ['figure', 'value', 'baseline', 'ratio', 'unit', 'target', 'met'];
  const rows = figures.map((f) => [
    f.name,
    formatNumber(f.value),
    formatNumber(f.baseline),
    f.ratio === null ? '-' : `${formatNumber(f.ratio)}x`,
    f.unit,
    f.target ?? '-',
    f.met === null ? '-' : f.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const numeric = new Set([1, 2, 3]);
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The figures as a Markdown table (for BENCHMARKS.md). */
export function formatMarkdown(figures: readonly Figure[]): string {
  const lines = ['| figure | value | baseline | ratio | unit | target | met |', '|---|--:|--:|--:|---|---|---|'];
  for (const f of figures) {
    const ratio = f.ratio === null ? '-' : `${formatNumber(f.ratio)}×`;
    const met = f.met === null ? '-' : f.met ? 'yes' : '**no**';
    lines.push(
      `| ${f.name} | ${formatNumber(f.value)} | ${formatNumber(f.baseline)} | ${ratio} | ${f.unit} | ${f.target ?? '-'} | ${met} |`,
    );
  }
  return lines.join('\n');
}
