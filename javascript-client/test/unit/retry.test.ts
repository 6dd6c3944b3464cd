import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  parseRetryAfter,
  type RetryInfo,
  type RetryRuntime,
  sleep,
  withRetries,
} from '../../src/retry.js';

const policy = { retries: 3, baseDelayMs: 100, maxDelayMs: 1000 };

function runtime(overrides: Partial<RetryRuntime> = {}): RetryRuntime & { waits: number[]; retries: RetryInfo[] } {
  const waits: number[] = [];
  const retries: RetryInfo[] = [];
  return {
    policy,
    signal: new AbortController().signal,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    onRetry: (info) => retries.push(info),
    waits,
    retries,
    ...overrides,
  };
}

describe('backoffDelay', () => {
  it('draws a full-jitter wait below a doubling ceiling', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, () => 0.999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(2, policy, () => 0.5)).toBe(100);
  });

  it('never exceeds the maximum, however many retries', () => {
    expect(backoffDelay(60, policy, () => 0.999)).toBe(999);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter('', 0)).toBeUndefined();
  });
});

describe('withRetries', () => {
  it('retries until success, waiting between attempts', async () => {
    const rt = runtime();
    let attempts = 0;
    const result = await withRetries(
      'op',
      rt,
      async () => {
        attempts++;
        if (attempts < 3) throw new Error(`failure ${attempts}`);
        return 'ok';
      },
      () => ({}),
    );
    expect(result).toBe('ok');
    expect(rt.waits).toEqual([50, 100]);
    expect(rt.retries.map((r) => [r.operation, r.retryNumber, r.delayMs, r.error.message])).toEqual([
      ['op', 1, 50, 'failure 1'],
      ['op', 2, 100, 'failure 2'],
    ]);
  });

  it('gives up after the allowed retries with the last error', async () => {
    const rt = runtime();
    let attempts = 0;
    const failing = withRetries(
      'op',
      rt,
      async () => {
        attempts++;
        throw new Error(`failure ${attempts}`);
      },
      () => ({}),
    );
    await expect(failing).rejects.toThrow('failure 4');
    expect(attempts).toBe(4);
  });

  it('does not retry a fatal error', async () => {
    const rt = runtime();
    await expect(
      withRetries(
        'op',
        rt,
        () => Promise.reject(new Error('no')),
        () => 'fatal',
      ),
    ).rejects.toThrow('no');
    expect(rt.waits).toEqual([]);
  });

  it('honours a longer Retry-After, up to the maximum wait', async () => {
    const rt = runtime();
    let attempts = 0;
    await withRetries(
      'op',
      rt,
      async () => {
        if (++attempts < 3) throw new Error('busy');
      },
      () => ({ retryAfterMs: attempts === 1 ? 700 : 5000 }),
    );
    expect(rt.waits).toEqual([700, 1000]);
  });

  it('stops once the signal aborts', async () => {
    const controller = new AbortController();
    const rt = runtime({ signal: controller.signal });
    let attempts = 0;
    const failing = withRetries(
      'op',
      rt,
      async () => {
        attempts++;
        controller.abort();
        throw new Error('aborted');
      },
      () => ({}),
    );
    await expect(failing).rejects.toThrow('aborted');
    expect(attempts).toBe(1);
  });
});

describe('sleep', () => {
  it('waits', async () => {
    const started = Date.now();
    await sleep(20, new AbortController().signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('rejects with the reason when aborted', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await expect(sleep(10, AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });
});
