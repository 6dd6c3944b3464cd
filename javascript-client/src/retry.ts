import { ApiCallError, ApiNetworkError, PartNetworkError, PartUploadError } from './errors.js';

/** How often and how patiently a failed request is tried again. */
export interface RetryPolicy {
  /** Attempts after the first one. */
  readonly retries: number;
  /** Upper bound of the first wait; it doubles on every further retry. */
  readonly baseDelayMs: number;
  /** No wait is longer than this, whatever the attempt or a `Retry-After` asks. */
  readonly maxDelayMs: number;
}

/** Told before each wait, for logging or telemetry. */
export interface RetryInfo {
  /** What is retried: an endpoint such as `upload-parts/`, or `part 3`. */
  readonly operation: string;
  /** 1 for the first retry. */
  readonly retryNumber: number;
  readonly delayMs: number;
  readonly error: Error;
}

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface RetryRuntime {
  readonly policy: RetryPolicy;
  readonly signal: AbortSignal;
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
}

/** Whether a failure may go away by itself, and how long the server asked us to wait. */
export type RetryVerdict = { readonly retryAfterMs?: number | undefined } | 'fatal';

/**
 * Exponential backoff with full jitter: a uniform wait in [0, min(max, base·2^(n-1))).
 * The jitter keeps many clients (or many parts of one upload) that failed together
 * from coming back together.
 */
export function backoffDelay(retryNumber: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retryNumber - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from `nowMs`. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Overload, rate limiting and server faults are worth another try; other 4xx are not. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Network failures and overloaded or failing servers: worth another try, and
 * an unfinished upload that met one is worth resuming. Not refusals, nor protocol faults.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof ApiNetworkError || error instanceof PartNetworkError) return true;
  const answered = error instanceof ApiCallError || (error instanceof PartUploadError && error.code === 'part');
  return answered && isRetryableStatus(error.status);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Runs `attempt` until it succeeds, `classify` calls its error fatal, the retries
 * are spent, or the signal aborts. The last error is thrown as it is.
 */
export async function withRetries<T>(
  operation: string,
  runtime: RetryRuntime,
  attempt: () => Promise<T>,
  classify: (error: unknown) => RetryVerdict,
): Promise<T> {
  for (let retryNumber = 1; ; retryNumber++) {
    try {
      return await attempt();
    } catch (error) {
      if (runtime.signal.aborted) throw error;
      const verdict = classify(error);
      if (verdict === 'fatal' || retryNumber > runtime.policy.retries) throw error;
      const jittered = backoffDelay(retryNumber, runtime.policy, runtime.random);
      const delayMs = Math.min(runtime.policy.maxDelayMs, Math.max(jittered, verdict.retryAfterMs ?? 0));
      runtime.onRetry?.({
        operation,
        retryNumber,
        delayMs,
        error: error instanceof Error ? error : new Error(String(error)),
      });
      await runtime.sleep(delayMs, runtime.signal);
    }
  }
}
