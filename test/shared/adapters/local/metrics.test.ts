import { describe, expect, it } from 'vitest';
import { createLocalMetrics } from '../../../../shared/adapters/local/metrics.ts';
import { METRICS } from '../../../../shared/ports/metrics.ts';
import { parsePrometheus, parseSeries, seriesValue } from '../../../support/prometheus.ts';

describe('local metrics (Prometheus text exposition)', () => {
  it('declares every metric with its help and type, even before anything happened', () => {
    const families = parsePrometheus(createLocalMetrics().exposition());
    expect(families.map((f) => [f.name, f.type])).toEqual(
      Object.values(METRICS).map((m) => [m.name, m.type.toUpperCase()]),
    );
    expect(families.every((f) => f.help.length > 0)).toBe(true);
  });

  it('sums counters per label set, whatever order the labels were given in', () => {
    const metrics = createLocalMetrics();
    metrics.count('deliveries', { handler: 'webhook', outcome: 'delivered' });
    metrics.count('deliveries', { outcome: 'delivered', handler: 'webhook' }, 2);
    metrics.count('deliveries', { handler: 'log', outcome: 'retry' });
    const text = metrics.exposition();
    const series = parseSeries(text);
    expect(seriesValue(series, METRICS.deliveries.name, { handler: 'webhook', outcome: 'delivered' })).toBe(3);
    expect(seriesValue(series, METRICS.deliveries.name, { handler: 'log', outcome: 'retry' })).toBe(1);
    expect(parsePrometheus(text).find((f) => f.name === METRICS.deliveries.name)?.metrics).toHaveLength(2);
  });

  it('writes histograms per label set with cumulative buckets, +Inf, sum and count', () => {
    const metrics = createLocalMetrics();
    const delivered = { handler: 'webhook', outcome: 'delivered' };
    for (const seconds of [0.004, 0.2, 0.2, 60]) metrics.observe('delivery_latency', delivered, seconds);
    metrics.observe('delivery_latency', { handler: 'webhook', outcome: 'retry' }, 1);
    const text = metrics.exposition();
    expect(() => parsePrometheus(text)).not.toThrow();
    const series = parseSeries(text);
    const name = METRICS.delivery_latency.name;
    const bucket = (le: string) => seriesValue(series, `${name}_bucket`, { ...delivered, le });
    expect([bucket('0.005'), bucket('0.1'), bucket('0.25'), bucket('30'), bucket('+Inf')]).toEqual([1, 1, 3, 3, 4]);
    expect(seriesValue(series, `${name}_count`, delivered)).toBe(4);
    expect(seriesValue(series, `${name}_sum`, delivered)).toBeCloseTo(60.404);
    expect(seriesValue(series, `${name}_count`, { outcome: 'retry' })).toBe(1);
  });

  it('reads gauges when scraped', () => {
    const metrics = createLocalMetrics();
    let depth = 7;
    metrics.gauge('queue_depth', () => depth);
    expect(seriesValue(parseSeries(metrics.exposition()), METRICS.queue_depth.name)).toBe(7);
    depth = 0;
    expect(seriesValue(parseSeries(metrics.exposition()), METRICS.queue_depth.name)).toBe(0);
  });

  it('escapes label values so that an odd handler name cannot break the exposition', () => {
    const metrics = createLocalMetrics();
    metrics.count('events_suppressed', { handler: 'we"ird\\na\nme', reason: 'snooze' });
    const series = parseSeries(metrics.exposition());
    expect(seriesValue(series, METRICS.events_suppressed.name, { handler: 'we"ird\\na\nme' })).toBe(1);
  });
});
