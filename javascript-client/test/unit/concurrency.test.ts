import { describe, expect, it } from 'vitest';
import { ConcurrencyProbe } from '../../src/concurrency.js';

const rule = { startAt: 2, windowMs: 100, growth: 1.15 };

/**
 * Runs `probe` for `ms` on a clock of its own, every slot wanted, each 10 ms reporting the
 * bytes that `bytesPerMs(limit)` says its limit of the moment sends; gives the limits it took.
 */
function drive(probe: ConcurrencyProbe, clock: { at: number }, ms: number, bytesPerMs: (limit: number) => number) {
  const limits = [probe.limit];
  for (const end = clock.at + ms; clock.at < end; ) {
    clock.at += 10;
    probe.observe(bytesPerMs(probe.limit) * 10, probe.limit, 100);
    if (probe.limit !== limits.at(-1)) limits.push(probe.limit);
  }
  return limits;
}

describe('adaptive concurrency', () => {
  it('doubles while each doubling sends faster, up to the most allowed (a link capping each connection)', () => {
    const clock = { at: 0 };
    const probe = new ConcurrencyProbe(8, rule, () => clock.at);
    expect(drive(probe, clock, 2000, (limit) => limit * 20)).toEqual([2, 4, 8]);
  });

  it('goes back to the last number that helped once a doubling does not (a store that is the limit)', () => {
    const clock = { at: 0 };
    const probe = new ConcurrencyProbe(8, rule, () => clock.at);
    // Four connections send no faster than two: the rule tries four, then stays with two.
    expect(drive(probe, clock, 2000, (limit) => Math.min(limit, 2) * 60)).toEqual([2, 4, 2]);
    expect(drive(probe, clock, 2000, (limit) => limit * 60)).toEqual([2]);
  });

  it('keeps a doubling only when it is faster by the growth asked for', () => {
    const clock = { at: 0 };
    const probe = new ConcurrencyProbe(8, rule, () => clock.at);
    // 2 -> 4 is 30 % faster, 4 -> 8 only 10 %.
    const rates: Record<number, number> = { 2: 100, 4: 130, 8: 143 };
    expect(drive(probe, clock, 2000, (limit) => rates[limit] ?? 0)).toEqual([2, 4, 8, 4]);
  });

  it('judges no window while fewer requests than its slots are wanted', () => {
    const clock = { at: 0 };
    const probe = new ConcurrencyProbe(8, rule, () => clock.at);
    for (; clock.at < 5000; clock.at += 10) probe.observe(1000, 1, 0);
    expect(probe.limit).toBe(2);
    // Wanted again: measured from then on.
    expect(drive(probe, clock, 2000, (limit) => limit * 20)).toEqual([2, 4, 8]);
  });

  it('uses the whole of a limit no larger than where it would begin', () => {
    const probe = new ConcurrencyProbe(2, rule, () => 0);
    expect(probe.limit).toBe(2);
    expect(new ConcurrencyProbe(1, rule, () => 0).limit).toBe(1);
  });
});
