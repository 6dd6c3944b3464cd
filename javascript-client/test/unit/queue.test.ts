import { describe, expect, it } from 'vitest';
import { RequestQueue } from '../../src/index.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('RequestQueue', () => {
  it('runs at most its limit at once, the others in the order they asked', async () => {
    const queue = new RequestQueue(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((gate, index) =>
      queue.run(async () => {
        started.push(index);
        await gate.promise;
        return index;
      }, new AbortController().signal),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(queue.active).toBe(2);
    gates[1]?.resolve();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const gate of gates) gate.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(queue.active).toBe(0);
  });

  it('frees the slot of a request that fails', async () => {
    const queue = new RequestQueue(1);
    const signal = new AbortController().signal;
    await expect(queue.run(() => Promise.reject(new Error('boom')), signal)).rejects.toThrow('boom');
    expect(await queue.run(async () => 'next', signal)).toBe('next');
  });

  it('gives up the turn of a request aborted while it waits, without running it', async () => {
    const queue = new RequestQueue(1);
    const gate = deferred();
    const holding = queue.run(() => gate.promise, new AbortController().signal);
    const controller = new AbortController();
    let ran = false;
    const waiting = queue.run(async () => {
      ran = true;
    }, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    const after = queue.run(async () => 'after', new AbortController().signal);
    gate.resolve();
    await holding;
    expect(await after).toBe('after');
    expect(ran).toBe(false);
    expect(queue.active).toBe(0);
  });

  it('lets more requests go as its adaptive rule allows more', async () => {
    let now = 0;
    const queue = new RequestQueue(4, { adaptive: { startAt: 1, windowMs: 10, growth: 1.1 }, now: () => now });
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((gate, index) =>
      queue.run(async () => {
        started.push(index);
        await gate.promise;
      }, new AbortController().signal),
    );
    await Promise.resolve();
    expect([started, queue.allowed]).toEqual([[0], 1]);
    queue.sent(100);
    now = 10;
    queue.sent(100);
    await Promise.resolve();
    // One request sent 10 bytes a millisecond: two may go now, and the waiting second starts.
    expect([started, queue.allowed, queue.active]).toEqual([[0, 1], 2, 2]);
    for (const gate of gates) gate.resolve();
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2]);
  });

  it('sends its whole limit from the start when not adaptive', async () => {
    const queue = new RequestQueue(3, { adaptive: false });
    expect(queue.allowed).toBe(3);
    expect(new RequestQueue(3).allowed).toBe(2);
  });

  it('refuses a limit below 1', () => {
    expect(() => new RequestQueue(0)).toThrow("a queue's limit must be an integer ≥ 1, not 0");
  });
});
