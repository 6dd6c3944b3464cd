import type { ApiFetch } from './api.js';
import { type Hashers, nodeHashers, scriptHashers } from './checksums.js';
import { clientDefaults } from './defaults.js';
import { createNodeHttpFetch } from './node-requests.js';
import { createFetchTransport } from './transport/fetch.js';
import { createNodeHttpTransport } from './transport/node-http.js';
import type { PartTransport } from './transport/types.js';
import { createXhrTransport } from './transport/xhr.js';

/** How the client reaches Django and the store, unless told otherwise. */
export interface RuntimeDefaults {
  /** Parts sent at once. */
  readonly concurrency: number;
  readonly fetch: ApiFetch;
  readonly hashers: Hashers;
  /** The part transport, for a client that sends `concurrency` parts at once. */
  transport(concurrency: number): PartTransport;
}

/**
 * Browsers: fetch for the API, XHR for parts (for byte-level progress). Node:
 * node:http for both (parts streamed in little memory, and no undici to load).
 * Elsewhere (workers, other runtimes): fetch for both.
 */
export function runtimeDefaults(): RuntimeDefaults {
  // Looked up at each call, so a fetch polyfilled after the client was made is used.
  const globalFetch: ApiFetch = (url, init) => globalThis.fetch(url, init);
  if (typeof XMLHttpRequest === 'function') {
    return {
      concurrency: clientDefaults.concurrency,
      fetch: globalFetch,
      hashers: scriptHashers,
      transport: createXhrTransport,
    };
  }
  // Written out here, not in a helper: the browser builds (build.mjs) define
  // `globalThis.process` as undefined, so that this branch, and node:http
  // with it, is dropped from their bundles.
  if (typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string') {
    return {
      concurrency: clientDefaults.nodeConcurrency,
      fetch: createNodeHttpFetch(),
      hashers: nodeHashers,
      // Connections to the store, as many as parts sent at once.
      transport: (concurrency) => createNodeHttpTransport({ maxSockets: concurrency }),
    };
  }
  return {
    concurrency: clientDefaults.concurrency,
    fetch: globalFetch,
    hashers: scriptHashers,
    transport: () => createFetchTransport(),
  };
}
