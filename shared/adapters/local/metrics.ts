import {
  type CounterKey,
  type GaugeKey,
  type HistogramKey,
  type LabelsOf,
  METRICS,
  type MetricKey,
  type Metrics,
} from '../../ports/metrics.ts';

/**
 * The local runtime's metrics: kept in memory and written out in Prometheus' text exposition format
 * (version 0.0.4) at `GET /metrics`. Hand-written rather than prom-client: the format is a few lines,
 * the metrics are a fixed table (ports/metrics.ts), and the core stays free of a dependency the
 * Lambda bundles would otherwise carry or have to tree-shake.
 */
export interface LocalMetrics extends Metrics {
  /** A gauge read when the metrics are scraped, e.g. the queue's current depth. */
  gauge(key: GaugeKey, read: () => number): void;
  /** Every metric, as Prometheus text. */
  exposition(): string;
}

/** The content type of the exposition, for the HTTP answer. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Histogram {
  labels: Record<string, string>;
  /** Per bucket, observations up to its bound (not yet cumulative). */
  counts: number[];
  sum: number;
  count: number;
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function labelText(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

/** Prometheus writes numbers as Go does: `+Inf`, `-Inf`, `NaN`, otherwise the shortest decimal. */
function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/**
 * @example
 * const metrics = createLocalMetrics();
 * metrics.count('deliveries', { handler: 'webhook', outcome: 'delivered' });
 * metrics.exposition(); // '# HELP event_hooks_deliveries_total …'
 */
export function createLocalMetrics(): LocalMetrics {
  const counters = new Map<MetricKey, Map<string, { labels: Record<string, string>; value: number }>>();
  const histograms = new Map<MetricKey, Map<string, Histogram>>();
  const gauges = new Map<MetricKey, () => number>();
  // A series is found by its label values in the declared order, so `{a,b}` and `{b,a}` are one series.
  const seriesKey = (key: MetricKey, labels: Record<string, string>) =>
    METRICS[key].labels.map((name: string) => labels[name] ?? '').join('\u0000');

  const series = <T>(store: Map<MetricKey, Map<string, T>>, key: MetricKey) => {
    let byLabels = store.get(key);
    if (!byLabels) {
      byLabels = new Map();
      store.set(key, byLabels);
    }
    return byLabels;
  };

  return {
    count<K extends CounterKey>(key: K, labels: LabelsOf<K>, value = 1) {
      const byLabels = series(counters, key);
      const id = seriesKey(key, labels);
      const entry = byLabels.get(id);
      if (entry) entry.value += value;
      else byLabels.set(id, { labels: { ...labels }, value });
    },
    observe<K extends HistogramKey>(key: K, labels: LabelsOf<K>, value: number) {
      const { buckets } = METRICS[key];
      const byLabels = series(histograms, key);
      const id = seriesKey(key, labels);
      let entry = byLabels.get(id);
      if (!entry) {
        entry = { labels: { ...labels }, counts: buckets.map(() => 0), sum: 0, count: 0 };
        byLabels.set(id, entry);
      }
      const bucket = buckets.findIndex((bound) => value <= bound);
      if (bucket >= 0) entry.counts[bucket] = (entry.counts[bucket] ?? 0) + 1;
      entry.sum += value;
      entry.count += 1;
    },
    gauge(key, read) {
      gauges.set(key, read);
    },
    exposition() {
      const lines: string[] = [];
      for (const key of Object.keys(METRICS) as MetricKey[]) {
        const metric = METRICS[key];
        lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`, `# TYPE ${metric.name} ${metric.type}`);
        if (metric.type === 'counter') {
          for (const { labels, value } of counters.get(key)?.values() ?? []) {
            lines.push(`${metric.name}${labelText(labels)} ${numberText(value)}`);
          }
        } else if (metric.type === 'gauge') {
          const read = gauges.get(key);
          if (read) lines.push(`${metric.name} ${numberText(read())}`);
        } else {
          for (const { labels, counts, sum, count } of histograms.get(key)?.values() ?? []) {
            let cumulative = 0;
            metric.buckets.forEach((bound, i) => {
              cumulative += counts[i] ?? 0;
              lines.push(`${metric.name}_bucket${labelText({ ...labels, le: numberText(bound) })} ${cumulative}`);
            });
            lines.push(`${metric.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${count}`);
            lines.push(`${metric.name}_sum${labelText(labels)} ${numberText(sum)}`);
            lines.push(`${metric.name}_count${labelText(labels)} ${count}`);
          }
        }
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
