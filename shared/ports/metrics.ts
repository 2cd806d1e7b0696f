/**
 * What the core counts and times, and the port it does so through: an in-memory registry served as
 * Prometheus text at `GET /metrics` locally (adapters/local/metrics.ts), CloudWatch embedded metric
 * format lines on AWS (adapters/aws/emfMetrics.ts). Both use the names below, so a dashboard, an
 * alarm or a query reads the same metric in either place.
 *
 * Labels stay bounded: a handler name, an outcome, a reason; never a hook id, an event id or a
 * tenant, whose number grows with the users and would make every series a new one.
 */
export const METRICS = {
  events_accepted: {
    name: 'event_hooks_events_accepted_total',
    type: 'counter',
    help: 'Events accepted by POST /events and the Kong http-log route and put on the bus.',
    labels: [],
  },
  events_suppressed: {
    name: 'event_hooks_events_suppressed_total',
    type: 'counter',
    help: "Matches of an event and a hook held back by the hook's gate or threshold (reason: snooze, on_change or threshold: the rule that held it).",
    labels: ['handler', 'reason'],
  },
  deliveries: {
    name: 'event_hooks_deliveries_total',
    type: 'counter',
    help: 'Delivery attempts by how they ended: delivered, retry, dead-letter, skipped (hook deleted).',
    labels: ['handler', 'outcome'],
  },
  delivery_latency: {
    name: 'event_hooks_delivery_latency_seconds',
    type: 'histogram',
    help: 'Time one delivery attempt spent in its handler, by how it ended.',
    labels: ['handler', 'outcome'],
    unit: 'Seconds',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  delivery_attempts: {
    name: 'event_hooks_delivery_attempts',
    type: 'histogram',
    help: 'Attempts a delivery took, observed when it ends (delivered or dead-lettered).',
    labels: ['handler', 'outcome'],
    unit: 'Count',
    buckets: [1, 2, 3, 5, 8, 13, 21],
  },
  dead_letters: {
    name: 'event_hooks_dead_letters_total',
    type: 'counter',
    help: 'Deliveries given up and kept as dead letters (cause: failed, too_large, redriven).',
    labels: ['cause'],
  },
  queue_depth: {
    name: 'event_hooks_delivery_queue_depth',
    type: 'gauge',
    help: 'Delivery jobs waiting or running in the local queue (on AWS: the SQS queue metrics).',
    labels: [],
  },
} as const;

export type MetricKey = keyof typeof METRICS;
type MetricOfType<T extends string> = {
  [K in MetricKey]: (typeof METRICS)[K]['type'] extends T ? K : never;
}[MetricKey];
export type CounterKey = MetricOfType<'counter'>;
export type HistogramKey = MetricOfType<'histogram'>;
export type GaugeKey = MetricOfType<'gauge'>;
/** The labels a metric declares, each a short value from a closed set. */
export type LabelsOf<K extends MetricKey> = { [L in (typeof METRICS)[K]['labels'][number]]: string };

/** Where the core reports what happened. Calls are cheap and never throw nor wait. */
export interface Metrics {
  /** Adds `value` (default 1) to a counter. */
  count<K extends CounterKey>(key: K, labels: LabelsOf<K>, value?: number): void;
  /** Records one observation of a histogram, in the metric's unit. */
  observe<K extends HistogramKey>(key: K, labels: LabelsOf<K>, value: number): void;
}

/** Reports nothing: the default where no adapter is wired (unit tests of the core). */
export const noMetrics: Metrics = {
  count: () => undefined,
  observe: () => undefined,
};
