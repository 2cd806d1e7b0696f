import {
  type CounterKey,
  type HistogramKey,
  type LabelsOf,
  METRICS,
  type MetricKey,
  type Metrics,
} from '../../ports/metrics.ts';

/**
 * Metrics on AWS as CloudWatch embedded metric format (EMF) lines on stdout: CloudWatch Logs turns
 * each into metric data points, with no API call and no extra permission. Hand-written rather than
 * Powertools Metrics: the format is one JSON object per line, and the four functions that report
 * stay small (each bundle ≤ 350 KB). Labels become dimensions; names are those of ports/metrics.ts.
 *
 * Observations are kept per invocation and written at its end (`flushMetrics`), one line per label
 * set: a batch of ten deliveries costs a few lines, not ten times as many.
 */
export interface EmfMetrics extends Metrics {
  /** Writes what was reported since the last flush, then forgets it. */
  flush(): void;
}

export interface EmfOptions {
  /** The CloudWatch namespace, e.g. `EventHooks/<prefix>`. */
  namespace: string;
  write?: (line: string) => void;
  now?: () => number;
}

/** CloudWatch takes at most 100 values of one metric in one EMF line. */
export const EMF_MAX_VALUES = 100;

const UNITS: Record<MetricKey, string> = Object.fromEntries(
  Object.entries(METRICS).map(([key, metric]) => [key, 'unit' in metric ? metric.unit : 'Count']),
) as Record<MetricKey, string>;

interface Group {
  labels: Record<string, string>;
  /** By metric name: a counter's sum, or a histogram's values. */
  values: Map<MetricKey, number | number[]>;
}

const live = new Set<EmfMetrics>();

/** Writes the metrics of every EMF registry of this process; called as each invocation ends. */
export function flushMetrics(): void {
  for (const metrics of live) metrics.flush();
}

/**
 * @example
 * const metrics = createEmfMetrics({ namespace: 'EventHooks/hooks' });
 * metrics.count('deliveries', { handler: 'webhook', outcome: 'delivered' });
 * metrics.flush(); // {"_aws":{"Timestamp":…,"CloudWatchMetrics":[…]},"handler":"webhook",…}
 */
export function createEmfMetrics(options: EmfOptions): EmfMetrics {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const groups = new Map<string, Group>();

  const groupOf = (labels: Record<string, string>): Group => {
    const names = Object.keys(labels).sort();
    const id = names.map((name) => `${name}=${labels[name]}`).join('\u0000');
    let group = groups.get(id);
    if (!group) {
      group = { labels: Object.fromEntries(names.map((name) => [name, labels[name] as string])), values: new Map() };
      groups.set(id, group);
    }
    return group;
  };

  const line = ({ labels, values }: Group): string => {
    const fields: Record<string, unknown> = {
      _aws: {
        Timestamp: now(),
        CloudWatchMetrics: [
          {
            Namespace: options.namespace,
            Dimensions: [Object.keys(labels)],
            Metrics: [...values.keys()].map((key) => ({ Name: METRICS[key].name, Unit: UNITS[key] })),
          },
        ],
      },
      ...labels,
    };
    for (const [key, value] of values) fields[METRICS[key].name] = value;
    return JSON.stringify(fields);
  };

  const metrics: EmfMetrics = {
    count<K extends CounterKey>(key: K, labels: LabelsOf<K>, value = 1) {
      const { values } = groupOf(labels);
      values.set(key, ((values.get(key) as number | undefined) ?? 0) + value);
    },
    observe<K extends HistogramKey>(key: K, labels: LabelsOf<K>, value: number) {
      const group = groupOf(labels);
      const list = (group.values.get(key) as number[] | undefined) ?? [];
      list.push(value);
      group.values.set(key, list);
      if (list.length >= EMF_MAX_VALUES) {
        write(line({ labels: group.labels, values: new Map([[key, list]]) }));
        group.values.delete(key);
      }
    },
    flush() {
      for (const group of groups.values()) if (group.values.size > 0) write(line(group));
      groups.clear();
    },
  };
  live.add(metrics);
  return metrics;
}
