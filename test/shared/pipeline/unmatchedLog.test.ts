import { describe, expect, it } from 'vitest';
import type { HookEvent } from '../../../shared/events/envelope.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { createUnmatchedLog, UNMATCHED_INFO_INTERVAL_MS } from '../../../shared/pipeline/unmatchedLog.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';

let seq = 0;
const event = (name: string, tenant = 't'): HookEvent => ({
  id: `e-${seq++}`,
  time: 'x',
  tenant,
  source: 'src',
  event: name,
  data: { secret: 'not logged' },
});

describe('events that matched no hook, in the log', () => {
  it('says the first of each name per minute at info, the rest at debug, and how many went unsaid', () => {
    const logger = memoryLogger();
    const clock = new ManualClock(0);
    const log = createUnmatchedLog(logger, clock);

    for (let i = 0; i < 5; i++) log.note(event('a'));
    log.note(event('b'));
    log.note(event('a', 'other-tenant'));
    clock.advance(UNMATCHED_INFO_INTERVAL_MS);
    log.note(event('a'));

    const info = logger.lines.filter((l) => l.level === 'info');
    expect(info.map((l) => [l.tenant, l.event, l.unlogged])).toEqual([
      ['t', 'a', 0],
      ['t', 'b', 0],
      ['other-tenant', 'a', 0],
      ['t', 'a', 4],
    ]);
    expect(logger.lines.filter((l) => l.level === 'debug')).toHaveLength(4);
    // The line names the event, never its data.
    expect(info[0]).toEqual(
      expect.objectContaining({ message: 'event matched no hook', source: 'src', event_id: 'e-0' }),
    );
    expect(JSON.stringify(logger.lines)).not.toContain('not logged');
  });

  it('remembers at most 1,000 names: past that, new names are said at debug until old ones age out', () => {
    const logger = memoryLogger();
    const clock = new ManualClock(0);
    const log = createUnmatchedLog(logger, clock);

    for (let i = 0; i < 1_001; i++) log.note(event(`n${i}`));
    clock.advance(UNMATCHED_INFO_INTERVAL_MS);
    log.note(event('late'));

    const info = logger.lines.filter((l) => l.level === 'info');
    expect(info).toHaveLength(1_001);
    expect(info.at(-1)?.event).toBe('late');
    expect(logger.lines.find((l) => l.event === 'n1000')?.level).toBe('debug');
  });
});
