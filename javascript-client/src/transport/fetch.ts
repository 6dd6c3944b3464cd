import type { PartTransport } from './types.js';

export interface FetchTransportOptions {
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
  /**
   * Report progress while a part is sent, by streaming it with an explicit
   * `Content-Length`. Needs a fetch that accepts both, as Node's does; browsers
   * do not (they use the XHR transport). Without it progress moves as each
   * part completes. Default: true in Node.
   */
  readonly byteProgress?: boolean;
}

/** Sends parts with fetch, for runtimes without XMLHttpRequest (Node, workers). */
export function createFetchTransport(options: FetchTransportOptions = {}): PartTransport {
  const fetchPart = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const byteProgress = options.byteProgress ?? isNode();
  return {
    async put({ url, body, headers, signal, onProgress }) {
      const streamed = byteProgress && body.size > 0;
      const init: RequestInit & { duplex?: 'half' } = streamed
        ? {
            method: 'PUT',
            headers: { ...headers, 'Content-Length': String(body.size) },
            body: countSentBytes(body, onProgress),
            duplex: 'half',
            signal,
          }
        : { method: 'PUT', headers, body, signal };
      const response = await fetchPart(url, init);
      const text = await response.text();
      if (!streamed && response.ok) onProgress(body.size);
      return { status: response.status, etag: response.headers.get('ETag'), body: text };
    },
  };
}

function countSentBytes(body: Blob, onProgress: (sentBytes: number) => void): ReadableStream<Uint8Array> {
  let sent = 0;
  return body.stream().pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        onProgress(sent);
        controller.enqueue(chunk);
      },
    }),
  );
}

function isNode(): boolean {
  const runtime = globalThis as { process?: { release?: { name?: string } }; Deno?: unknown };
  return runtime.process?.release?.name === 'node' && runtime.Deno === undefined;
}
