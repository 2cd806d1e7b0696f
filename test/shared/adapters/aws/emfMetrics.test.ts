import { describe, expect, it } from 'vitest';
import { createEmfMetrics, EMF_MAX_VALUES, flushMetrics } from '../../../../shared/adapters/aws/emfMetrics.ts';
import { METRICS } from '../../../../shared/ports/metrics.ts';

/** CloudWatch's standard units (the EMF specification's `Unit` values). */
const UNITS = new Set(['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Count', 'Percent', 'None', 'Count/Second']);

/**
 * Checks one line against the embedded metric format specification: the `_aws` metadata, each
 * directive's namespace, dimension sets and metric definitions, and the members they point at.
 * Returns the problems found (none for a valid line).
 */
function emfProblems(line: string): string[] {
  const problems: string[] = [];
  const root = JSON.parse(line) as Record<string, unknown>;
  const aws = root._aws as Record<string, unknown> | undefined;
  if (!aws || typeof aws !== 'object') return ['no _aws object'];
  if (!Number.isInteger(aws.Timestamp) || (aws.Timestamp as number) < 0) problems.push('Timestamp not epoch ms');
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) return [...problems, 'no CloudWatchMetrics directive'];
  for (const directive of directives as Record<string, unknown>[]) {
    const namespace = directive.Namespace;
    if (typeof namespace !== 'string' || namespace.length === 0 || namespace.length > 255) problems.push('Namespace');
    const dimensionSets = directive.Dimensions;
    if (!Array.isArray(dimensionSets)) problems.push('Dimensions not an array');
    for (const set of (dimensionSets ?? []) as unknown[]) {
      if (!Array.isArray(set) || set.length > 30) problems.push('a dimension set is not an array of at most 30');
      for (const name of (set ?? []) as unknown[]) {
        if (typeof name !== 'string' || typeof root[name] !== 'string') problems.push(`dimension ${String(name)}`);
      }
    }
    const metrics = directive.Metrics;
    if (!Array.isArray(metrics) || metrics.length === 0 || metrics.length > 100) problems.push('Metrics');
    for (const metric of (metrics ?? []) as Record<string, unknown>[]) {
      const name = metric.Name;
      if (typeof name !== 'string' || name.length === 0) problems.push('metric Name');
      if (metric.Unit !== undefined && !UNITS.has(metric.Unit as string)) problems.push(`Unit ${String(metric.Unit)}`);
      const value = root[name as string];
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || values.length > 100 || values.some((v) => typeof v !== 'number')) {
        problems.push(`value of ${String(name)}`);
      }
    }
  }
  return problems;
}

describe('EMF metrics', () => {
  const collect = () => {
    const lines: string[] = [];
    const metrics = createEmfMetrics({
      namespace: 'EventHooks/test',
      write: (l) => lines.push(l),
      now: () => 1_700_000_000_000,
    });
    return { lines, metrics };
  };

  it('writes one valid EMF line per label set, counters summed and histograms as their values', () => {
    const { lines, metrics } = collect();
    const delivered = { handler: 'webhook', outcome: 'delivered' };
    metrics.count('deliveries', delivered);
    metrics.count('deliveries', { outcome: 'delivered', handler: 'webhook' });
    metrics.observe('delivery_latency', delivered, 0.12);
    metrics.observe('delivery_latency', delivered, 0.3);
    metrics.observe('delivery_attempts', delivered, 1);
    metrics.count('deliveries', { handler: 'log', outcome: 'retry' });
    metrics.count('events_accepted', {}, 5);
    metrics.flush();

    expect(lines).toHaveLength(3);
    for (const line of lines) expect(emfProblems(line)).toEqual([]);
    const [webhook, log, accepted] = lines.map((l) => JSON.parse(l));
    expect(webhook).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'EventHooks/test',
            Dimensions: [['handler', 'outcome']],
            Metrics: [
              { Name: METRICS.deliveries.name, Unit: 'Count' },
              { Name: METRICS.delivery_latency.name, Unit: 'Seconds' },
              { Name: METRICS.delivery_attempts.name, Unit: 'Count' },
            ],
          },
        ],
      },
      handler: 'webhook',
      outcome: 'delivered',
      [METRICS.deliveries.name]: 2,
      [METRICS.delivery_latency.name]: [0.12, 0.3],
      [METRICS.delivery_attempts.name]: [1],
    });
    expect(log).toMatchObject({ handler: 'log', outcome: 'retry', [METRICS.deliveries.name]: 1 });
    // No labels: a metric without dimensions.
    expect(accepted._aws.CloudWatchMetrics[0].Dimensions).toEqual([[]]);
    expect(accepted[METRICS.events_accepted.name]).toBe(5);
  });

  it('forgets what it wrote, and writes nothing when nothing happened', () => {
    const { lines, metrics } = collect();
    metrics.count('dead_letters', { cause: 'failed' });
    metrics.flush();
    metrics.flush();
    expect(lines).toHaveLength(1);
  });

  it('never puts more than 100 values of a metric in one line', () => {
    const { lines, metrics } = collect();
    const labels = { handler: 'webhook', outcome: 'retry' };
    for (let i = 0; i < EMF_MAX_VALUES + 5; i++) metrics.observe('delivery_latency', labels, i / 1000);
    metrics.flush();
    const counts = lines.map((l) => (JSON.parse(l)[METRICS.delivery_latency.name] as number[]).length);
    expect(counts).toEqual([EMF_MAX_VALUES, 5]);
    for (const line of lines) expect(emfProblems(line)).toEqual([]);
  });

  it('is flushed by flushMetrics, as each invocation ends', () => {
    const { lines, metrics } = collect();
    metrics.count('events_suppressed', { handler: 'webhook', reason: 'snooze' });
    flushMetrics();
    expect(lines.map((l) => JSON.parse(l)[METRICS.events_suppressed.name])).toEqual([1]);
  });

  it('the validator itself refuses a line whose dimension has no value', () => {
    const line = JSON.stringify({
      _aws: {
        Timestamp: 1,
        CloudWatchMetrics: [{ Namespace: 'n', Dimensions: [['handler']], Metrics: [{ Name: 'm' }] }],
      },
      m: 1,
    });
    expect(emfProblems(line)).toEqual(['dimension handler']);
  });
});
