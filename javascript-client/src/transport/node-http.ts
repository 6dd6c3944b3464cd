/// <reference types="node" />
// See ../node-requests.ts: Node's declarations for types only, its modules loaded at run time.
import type { ClientRequest, IncomingMessage } from 'node:http';
import { defaultNodeConcurrency } from '../defaults.js';
import {
  givePieceBuffer,
  openPieceReader,
  type ReadsInPieces,
  readsInPieces,
  takePieceBuffer,
} from '../file-pieces.js';
import { failWhenIdle, type NodeHttpSender, nodeHttpSenders } from '../node-requests.js';
import type { PartPutRequest, PartPutResponse, PartTransport } from './types.js';

export interface NodeHttpTransportOptions {
  /**
   * Connections to one store host, over every upload that uses this
   * transport; more parts wait for a free one, as in a browser. The client
   * gives its `concurrency`. Default: {@link defaultNodeConcurrency}.
   */
  readonly maxSockets?: number | undefined;
}

/**
 * Sends parts with node:http / node:https, the default in Node: it streams each
 * part from its Blob with backpressure, over keep-alive connections, and
 * reports progress as the socket takes the bytes. Unlike Node's fetch
 * (undici), it holds no more than a batch or two of 256 KiB per part in flight.
 */
export function createNodeHttpTransport(options: NodeHttpTransportOptions = {}): PartTransport {
  const maxSockets = options.maxSockets ?? defaultNodeConcurrency;
  // Idle connections are kept for the parts to come, no more than are used at once.
  const senderFor = nodeHttpSenders({ maxSockets, maxFreeSockets: maxSockets });
  return {
    reportsProgress: true,
    passesBytes: true,
    async put(request) {
      const url = new URL(request.url);
      return putPart(await senderFor(url.protocol), url, request);
    },
  };
}

function putPart(
  sender: NodeHttpSender,
  url: URL,
  { body, headers, signal, onProgress, onBytes }: PartPutRequest,
): Promise<PartPutResponse> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const request = sender.request(url, {
      method: 'PUT',
      agent: sender.agent,
      headers: { ...headers, 'Content-Length': String(body.size) },
    });
    failWhenIdle(request);
    let settled = false;
    let answered = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (error: unknown) =>
      settle(() => {
        request.destroy();
        reject(error);
      });
    const onAbort = () => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // A store may answer before the body is through (a refusal) and close the
    // connection: the write error that follows must not hide its answer.
    request.on('error', (error) => {
      if (!answered) fail(error);
    });
    request.on('response', (response: IncomingMessage) => {
      answered = true;
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('error', fail);
      response.on('close', () => {
        if (!response.complete) fail(new Error('the connection closed before the whole answer came'));
      });
      response.on('end', () =>
        settle(() => {
          // A body cut short by an early answer leaves the connection unusable.
          if (!request.writableFinished) request.destroy();
          resolve({ status: response.statusCode ?? 0, etag: response.headers.etag ?? null, body: text });
        }),
      );
    });
    // No progress after the end: a write may complete after an abort.
    const progress = (sent: number) => {
      if (!settled) onProgress(sent);
    };
    sendBody(request, body, progress, onBytes, () => answered).catch(fail);
  });
}

/**
 * Read from the Blob at a time. Node copies what a Blob read returns: an
 * in-memory Blob read whole would be copied whole (a file-backed one reads in
 * 64 KiB chunks anyway).
 */
const readPieceBytes = 1024 * 1024;
/**
 * Handed to the socket at a time: the chunks read (64 KiB each from a file)
 * go out corked, in one system call, and are hashed once the kernel has them.
 * Written and hashed a chunk at a time, Node spent 15-25 % more CPU on the
 * same bytes (sent to a sink on another core), for some 5 MiB less RSS.
 */
const batchBytes = 256 * 1024;

/** A piece read to be sent, and what to do once the socket has taken it. */
interface Piece {
  readonly bytes: Uint8Array;
  readonly sent?: () => void;
}

/** The pieces of an `openFile` Blob, each read into a pooled buffer while the one before is sent. */
async function* pooledPieces(body: Blob & ReadsInPieces): AsyncGenerator<Piece> {
  const reader = await body[openPieceReader]();
  const readAt = async (position: number): Promise<Piece> => {
    const buffer = takePieceBuffer();
    const bytesRead = await reader.read(buffer, position);
    return { bytes: buffer.subarray(0, bytesRead), sent: () => givePieceBuffer(buffer) };
  };
  try {
    let next = body.size > 0 ? readAt(0) : undefined;
    for (let position = 0; next !== undefined; ) {
      const piece = await next;
      position += piece.bytes.byteLength;
      next = position < body.size ? readAt(position) : undefined;
      // Read ahead, but never left unawaited: a failed read ahead fails the part.
      next?.catch(() => {});
      yield piece;
    }
  } finally {
    await reader.close();
  }
}

/** The pieces of any other Blob, as its stream gives them, a slice of `readPieceBytes` at a time. */
async function* streamedPieces(body: Blob): AsyncGenerator<Piece> {
  for (let offset = 0; offset < body.size; offset += readPieceBytes) {
    const reader = body
      .slice(offset, offset + readPieceBytes)
      .stream()
      .getReader();
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) yield { bytes: read.value };
    } finally {
      reader.cancel().catch(() => {});
    }
  }
}

/**
 * Streams `body` into `request`, reading on only while the socket keeps up.
 * Progress counts what the socket took.
 */
async function sendBody(
  request: ClientRequest,
  body: Blob,
  onProgress: (sentBytes: number) => void,
  onBytes: ((piece: Uint8Array) => void) | undefined,
  answered: () => boolean,
): Promise<void> {
  let sent = 0;
  const written =
    ({ bytes, sent: release }: Piece) =>
    (error?: Error | null) => {
      // A piece whose write failed may still be the socket's: it is left to the collector.
      if (error) return;
      release?.();
      sent += bytes.byteLength;
      onProgress(sent);
    };
  let batch: Piece[] = [];
  let batched = 0;
  const flush = async () => {
    let more = true;
    request.cork();
    for (const piece of batch) more = request.write(piece.bytes, written(piece));
    request.uncork();
    // Hashed before the socket has said it took them: until then no piece is reused.
    if (onBytes) for (const piece of batch) onBytes(piece.bytes);
    batch = [];
    batched = 0;
    // Over the socket's high-water mark: 'drain' comes once it took it all.
    if (!more) await drained(request);
  };
  const pieces = readsInPieces(body) ? pooledPieces(body) : streamedPieces(body);
  for await (const piece of pieces) {
    // Aborted, failed, or answered early: stop reading the file.
    if (request.destroyed || answered()) return;
    batch.push(piece);
    batched += piece.bytes.byteLength;
    if (batched >= batchBytes) await flush();
  }
  if (batched > 0) await flush();
  request.end();
}

/** Resolves when `request` can take more bytes, or has closed. */
function drained(request: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      request.off('drain', done);
      request.off('close', done);
      resolve();
    };
    request.on('drain', done);
    request.on('close', done);
  });
}
