import type { PartTransport } from './types.js';

export interface FetchTransportOptions {
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch | undefined;
  /**
   * Report progress while a part is sent, by streaming it with an explicit
   * `Content-Length`. Needs a fetch that accepts both, as Node's does; browsers
   * do not (they use the XHR transport). Without it progress moves as each
   * part completes. Default: true in Node.
   */
  readonly byteProgress?: boolean | undefined;
}

/** Sends parts with fetch: the default where there is neither XMLHttpRequest nor Node (workers). */
export function createFetchTransport(options: FetchTransportOptions = {}): PartTransport {
  const fetchPart = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const byteProgress = options.byteProgress ?? isNode();
  return {
    reportsProgress: byteProgress,
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

/** Pieces small enough for smooth progress, large enough to cost nothing. */
const progressPieceBytes = 64 * 1024;

/**
 * The body as a stream that counts what the connection takes from it. It hands
 * out one piece per pull (no queue ahead), so the count follows the socket
 * rather than the disk, even for an in-memory Blob that reads as one chunk.
 */
function countSentBytes(body: Blob, onProgress: (sentBytes: number) => void): ReadableStream<Uint8Array> {
  const reader = body.stream().getReader();
  let unsent = new Uint8Array(0);
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (unsent.byteLength === 0) {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            return;
          }
          unsent = value;
        }
        const piece = unsent.subarray(0, progressPieceBytes);
        unsent = unsent.subarray(piece.byteLength);
        sent += piece.byteLength;
        onProgress(sent);
        controller.enqueue(piece);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

function isNode(): boolean {
  const runtime = globalThis as { process?: { release?: { name?: string } }; Deno?: unknown };
  return runtime.process?.release?.name === 'node' && runtime.Deno === undefined;
}
