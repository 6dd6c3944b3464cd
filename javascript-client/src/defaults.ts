/**
 * Every default of the client, in one place. The README's client options table
 * shows these values; the widget overrides a few (see widget/file-input.ts).
 */
export const clientDefaults = {
  /**
   * Parts sent at once in browsers (and runtimes other than Node). Browsers open
   * at most 6 HTTP/1.1 connections to a host, so more would only queue; where
   * each connection is capped, 6 send more than 4 (README, "Concurrency").
   */
  concurrency: 6,
  /** Parts sent at once in Node, which has no per-host limit (README, "Concurrency"). */
  nodeConcurrency: 8,
  /**
   * Of those, how many to use: begin with `startAt`, double while each doubling sends
   * `growth` times faster, measured over `windowMs` (README, "Concurrency").
   */
  adaptiveConcurrency: { startAt: 2, windowMs: 300, growth: 1.15 },
  /** Retries of each request after a network error, 5xx or 429. */
  retries: 5,
  /** Backoff: the first wait is up to `baseMs`, doubling, capped at `maxMs`. */
  retryDelay: { baseMs: 1000, maxMs: 30_000 },
  /** `credentials` of the API calls: Django's session cookie on the same origin. */
  credentials: 'same-origin' as RequestCredentials,
  /** Make sure each part is stored as it was read. */
  checksums: true,
  /** Remember unfinished uploads to resume them. */
  resume: false,
  /** Least time between two byte-progress reports. */
  progressIntervalMs: 100,
  /** A part that moves no byte for this long is given up and sent again. */
  stallTimeoutMs: 30_000,
} as const;

/** Parts sent at once in browsers; see {@link clientDefaults}. */
export const defaultConcurrency: number = clientDefaults.concurrency;

/** Parts sent at once in Node; see {@link clientDefaults}. */
export const defaultNodeConcurrency: number = clientDefaults.nodeConcurrency;
