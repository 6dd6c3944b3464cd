import { S3FileFieldClient, type S3FileFieldClientOptions, type UploadProgress } from '../../src/index.js';
import { apiBaseUrl, type FakeStack } from './fake-stack.js';

/**
 * A client wired to the fake stack, with millisecond backoff so retries stay fast.
 * Checksums are off unless asked for, so that a test of something else meets
 * only its own calls and PUTs.
 */
export function clientFor(stack: FakeStack, options: Partial<S3FileFieldClientOptions> = {}): S3FileFieldClient {
  return new S3FileFieldClient({
    baseUrl: apiBaseUrl,
    fetch: stack.fetch,
    transport: stack.transport,
    retryDelay: { baseMs: 1, maxMs: 4 },
    progressIntervalMs: 0,
    checksums: false,
    // Every slot from the start, so that tests of the bound see it; the rule has its own tests.
    adaptiveConcurrency: false,
    ...options,
  });
}

export function recordProgress(): { events: UploadProgress[]; onProgress: (progress: UploadProgress) => void } {
  const events: UploadProgress[] = [];
  return { events, onProgress: (progress) => events.push(progress) };
}
