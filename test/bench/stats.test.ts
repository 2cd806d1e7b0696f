import { describe, expect, it } from 'vitest';
import { figure, formatNumber, formatTable, median, percentile, summarize } from '../../bench/stats.ts';

describe('percentile', () => {
  it('picks the nearest-rank sample, whatever the input order', () => {
    // Prepare: 1..100 shuffled, so the p-th percentile is exactly p
    const samples = Array.from({ length: 100 }, (_, i) => i + 1).sort((a, b) => ((a * 37) % 101) - ((b * 37) % 101));

    // Act / Assess
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 95)).toBe(95);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile(samples, 100)).toBe(100);
    expect(percentile(samples, 0)).toBe(1);
  });

  it('rounds the rank up, so a p99 of ten samples is the largest', () => {
    expect(percentile([5, 1, 9, 3, 7, 2, 8, 4, 6, 10], 99)).toBe(10);
    expect(percentile([5, 1, 9, 3, 7, 2, 8, 4, 6, 10], 50)).toBe(5);
  });

  it('does not reorder the caller’s array', () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('refuses an empty sample and a percentile outside 0..100', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('median', () => {
  it('is the middle sample for an odd count and the mean of the middle two for an even one', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('summarize', () => {
  it('reports count, extremes, mean and percentiles of the same sample', () => {
    const s = summarize([4, 2, 8, 6]);
    expect(s).toEqual({ count: 4, min: 2, p50: 4, p95: 8, p99: 8, max: 8, mean: 5 });
  });
});

describe('figure', () => {
  it('computes the ratio against the baseline and decides the target on it', () => {
    const f = figure({
      name: 'latency',
      unit: 'ms',
      value: 6,
      baseline: 2,
      target: { text: 'ratio <= 3', met: ({ ratio }) => ratio !== null && ratio <= 3 },
    });
    expect(f.ratio).toBe(3);
    expect(f.met).toBe(true);
    expect(f.target).toBe('ratio <= 3');
  });

  it('has no ratio without a baseline or with a zero one, and no verdict without a target', () => {
    expect(figure({ name: 'a', unit: 'x', value: 1 })).toMatchObject({ baseline: null, ratio: null, met: null });
    expect(figure({ name: 'b', unit: 'x', value: 1, baseline: 0 }).ratio).toBeNull();
  });

  it('reports a missed target as not met', () => {
    const f = figure({ name: 'lost', unit: 'n', value: 3, target: { text: '= 0', met: ({ value }) => value === 0 } });
    expect(f.met).toBe(false);
  });
});

describe('formatting', () => {
  it('keeps three significant digits at every magnitude', () => {
    expect(formatNumber(1234.4)).toBe('1234');
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(1.2345)).toBe('1.23');
    expect(formatNumber(0.012345)).toBe('0.0123');
    expect(formatNumber(null)).toBe('-');
  });

  it('prints one aligned line per figure with its verdict', () => {
    const table = formatTable([
      figure({ name: 'p50', unit: 'ms', value: 6, baseline: 2, target: { text: 'ratio <= 2', met: () => false } }),
      figure({ name: 'size', unit: 'KB', value: 100 }),
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^p50\s+6\.00\s+2\.00\s+3\.00x\s+ms\s+ratio <= 2\s+NO/);
    expect(lines[3]).toMatch(/^size\s+100\s+-\s+-\s+KB\s+-\s+-/);
  });
});
