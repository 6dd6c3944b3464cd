import { createFetchTransport } from './fetch.js';
import type { PartTransport } from './types.js';
import { createXhrTransport } from './xhr.js';

/** XHR where it exists (browsers, for byte-level progress), fetch elsewhere (Node). */
export function defaultTransport(): PartTransport {
  return typeof XMLHttpRequest === 'function' ? createXhrTransport() : createFetchTransport();
}
