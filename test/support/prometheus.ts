import { createRequire } from 'node:module';

/** One metric family as parse-prometheus-text-format (prom2json's shape) gives it; values stay strings. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}

// The package ships no types; its CommonJS build is loaded as such.
const parser = createRequire(import.meta.url)('parse-prometheus-text-format') as
  | ((text: string) => MetricFamily[])
  | { default: (text: string) => MetricFamily[] };

/** Parses Prometheus' text exposition format with an independent parser; throws on an invalid line. */
export function parsePrometheus(text: string): MetricFamily[] {
  return (typeof parser === 'function' ? parser : parser.default)(text);
}

/**
 * Every sample of an exposition as Prometheus stores it: one series per name and label set, a
 * histogram being its `_bucket{le}`, `_sum` and `_count` series. Parsed by the same parser with the
 * TYPE lines left out, because the parser folds the buckets of a histogram's label sets into one
 * and drops their labels (it handles unlabelled histograms only).
 */
export function parseSeries(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const untyped = text
    .split('\n')
    .filter((line) => !line.startsWith('# TYPE '))
    .join('\n');
  return parsePrometheus(untyped).flatMap((family) =>
    family.metrics.map((m) => ({ name: family.name, labels: m.labels ?? {}, value: Number(m.value) })),
  );
}

/** The value of the series named `name` whose labels include `labels`; undefined when there is none. */
export function seriesValue(
  series: ReturnType<typeof parseSeries>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
