import { describe, expect, it } from 'vitest';
import { ProgressTracker, type UploadProgress } from '../../src/progress.js';

function tracker(total: number, intervalMs = 100) {
  const clock = { now: 0 };
  const events: UploadProgress[] = [];
  const progress = new ProgressTracker(total, (event) => events.push(event), { intervalMs, now: () => clock.now });
  return { progress, events, clock };
}

describe('ProgressTracker', () => {
  it('reports state changes at once and byte changes at most once per interval', () => {
    const { progress, events, clock } = tracker(100);
    progress.setState('uploading');
    progress.partSending(1, 10);
    clock.now = 50;
    progress.partSending(1, 20);
    clock.now = 100;
    progress.partSending(1, 30);
    progress.setState('finalizing');
    expect(events.map((e) => [e.state, e.uploaded])).toEqual([
      ['uploading', 0],
      ['uploading', 30],
      ['finalizing', 30],
    ]);
  });

  it('holds its highest value while a retried part starts over', () => {
    const { progress, events } = tracker(100, 0);
    progress.setState('uploading');
    progress.partSending(1, 40);
    progress.partSending(1, 0);
    progress.partSending(1, 20);
    progress.partSending(1, 50);
    expect(events.map((e) => e.uploaded)).toEqual([0, 40, 50]);
  });

  it('adds up the parts in flight and the parts stored', () => {
    const { progress, events } = tracker(30, 0);
    progress.setPartCount(3);
    progress.setState('uploading');
    progress.partSending(1, 5);
    progress.partSending(2, 5);
    progress.partStored(1, 10);
    expect(events.at(-1)).toMatchObject({ uploaded: 15, partsDone: 1, partCount: 3 });
  });

  it('ends done at the total', () => {
    const { progress, events } = tracker(30, 0);
    progress.setState('uploading');
    progress.partSending(1, 7);
    progress.setState('done');
    expect(events.at(-1)).toMatchObject({ state: 'done', uploaded: 30, total: 30 });
  });

  it('measures speed over recent history, not counting resumed parts', () => {
    const { progress, events, clock } = tracker(10_000_000, 0);
    progress.partAlreadyStored(500_000);
    progress.setState('uploading');
    clock.now = 200;
    progress.partSending(2, 20_000);
    expect(events.at(-1)?.bytesPerSecond).toBeUndefined();
    clock.now = 1000;
    progress.partSending(2, 100_000);
    expect(events.at(-1)).toMatchObject({ uploaded: 600_000, bytesPerSecond: 100_000 });
    // Ten seconds later at 50 kB/s, the early fast second has left the window.
    for (let second = 2; second <= 11; second++) {
      clock.now = second * 1000;
      progress.partSending(2, 100_000 + (second - 1) * 50_000);
    }
    expect(events.at(-1)?.bytesPerSecond).toBe(50_000);
  });

  it('gives no speed outside the uploading state', () => {
    const { progress, events, clock } = tracker(100, 0);
    progress.setState('uploading');
    clock.now = 1000;
    progress.partSending(1, 100);
    progress.setState('finalizing');
    expect(events.at(-1)?.bytesPerSecond).toBeUndefined();
  });

  it('survives a listener that throws', async () => {
    const progress = new ProgressTracker(
      10,
      () => {
        throw new Error('listener bug');
      },
      { intervalMs: 0, now: () => 0 },
    );
    const reported = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    expect(() => progress.setState('uploading')).not.toThrow();
    await expect(reported).resolves.toMatchObject({ message: 'listener bug' });
  });
});
