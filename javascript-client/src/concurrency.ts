/**
 * Parts sent at once in browsers (and runtimes other than Node). Browsers open
 * at most 6 HTTP/1.1 connections to a host, so more would only queue. Measured
 * (README, "Concurrency"): where each connection is capped, 6 send 30 % more
 * than 4; on loopback, where the machine's CPU is the limit, about as much.
 */
export const defaultConcurrency = 6;

/**
 * Parts sent at once in Node, which has no per-host limit: where each
 * connection is capped, 8 send 40 % more than 6, in no more memory.
 */
export const defaultNodeConcurrency = 8;
