/// <reference types="node" />
// Node's declarations for node:fs's types; the module is imported at run time, in Node only.
import type { FileHandle } from 'node:fs/promises';
import { openPieceReader, type PieceReader, pieceBytes, type ReadsInPieces } from './file-pieces.js';

/** Reads bytes [start, end) of the file at `path`, by position, through one open handle. */
async function openRangeReader(path: string, start: number, end: number): Promise<PieceReader> {
  const { open } = await import('node:fs/promises');
  const handle: FileHandle = await open(path, 'r');
  return {
    async read(into, position) {
      const length = Math.min(into.byteLength, end - start - position);
      if (length <= 0) return 0;
      const { bytesRead } = await handle.read(into, 0, length, start + position);
      if (bytesRead === 0) throw new Error(`${path} is shorter than when it was opened`);
      return bytesRead;
    },
    close: () => handle.close(),
  };
}

/** Bytes [start, end) of the file at `path`, as a stream of 1 MiB pieces. */
function readRange(path: string, start: number, end: number): ReadableStream<Uint8Array> {
  let reader: PieceReader | undefined;
  let position = 0;
  return new ReadableStream<Uint8Array>({
    type: 'bytes',
    async pull(controller) {
      reader ??= await openRangeReader(path, start, end);
      if (position >= end - start) {
        await reader.close();
        controller.close();
        return;
      }
      // A fresh buffer per piece, for a reader that may keep it: not zeroed (every byte of it
      // is read into, or cut off), and never a slice of Node's shared pool, which a byte stream
      // could not hand over.
      const piece = Buffer.allocUnsafeSlow(Math.min(pieceBytes, end - start - position));
      try {
        const bytesRead = await reader.read(piece, position);
        position += bytesRead;
        controller.enqueue(piece.subarray(0, bytesRead));
      } catch (error) {
        await reader.close();
        controller.error(error);
      }
    },
    async cancel() {
      await reader?.close();
    },
  });
}

/**
 * A part of a file on disk, as a Blob: sliced without reading, read in pieces of 1 MiB by
 * `fs.read`, into buffers its reader chooses. A `fs.openAsBlob` Blob reads 64 KiB at a time,
 * which costs Node several times the CPU of the upload itself.
 */
class FileRange extends Blob implements ReadsInPieces {
  constructor(
    private readonly path: string,
    private readonly start: number,
    private readonly end: number,
    private readonly mediaType: string,
  ) {
    super([]);
  }

  override get size(): number {
    return this.end - this.start;
  }

  override get type(): string {
    return this.mediaType;
  }

  override slice(start = 0, end = this.size, contentType = ''): Blob {
    const [from, to] = [clamp(start, this.size), clamp(end, this.size)];
    return new FileRange(this.path, this.start + from, this.start + Math.max(from, to), contentType);
  }

  override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return readRange(this.path, this.start, this.end) as ReadableStream<Uint8Array<ArrayBuffer>>;
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.bytes()).buffer as ArrayBuffer;
  }

  override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    const bytes = new Uint8Array(this.size);
    const reader = await this[openPieceReader]();
    try {
      for (let filled = 0; filled < bytes.byteLength; ) filled += await reader.read(bytes.subarray(filled), filled);
    } finally {
      await reader.close();
    }
    return bytes;
  }

  [openPieceReader](): Promise<PieceReader> {
    return openRangeReader(this.path, this.start, this.end);
  }

  override async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }
}

/** A slice bound as `Blob.slice` takes it: negative from the end, within [0, size]. */
function clamp(index: number, size: number): number {
  return index < 0 ? Math.max(size + index, 0) : Math.min(index, size);
}

export interface OpenFileOptions {
  /** The file's type, sent as its `Content-Type`; default none (the server's default). */
  readonly type?: string | undefined;
  /** The name to give the server; default the path's last segment. */
  readonly name?: string | undefined;
}

/**
 * Opens a file on disk for `upload()` in Node: a `File` whose bytes are read as they are
 * sent, 1 MiB at a time, so that memory stays flat whatever its size, at a fraction of
 * the CPU a `fs.openAsBlob` Blob costs. The file must not change while it uploads.
 */
export async function openFile(path: string, options: OpenFileOptions = {}): Promise<File> {
  const { stat } = await import('node:fs/promises');
  const { basename } = await import('node:path');
  const stats = await stat(path);
  if (!stats.isFile()) throw new Error(`${path} is not a file`);
  const range = new FileRange(path, 0, stats.size, options.type ?? '');
  return Object.assign(range, {
    name: options.name ?? basename(path),
    lastModified: Math.trunc(stats.mtimeMs),
    webkitRelativePath: '',
  }) as unknown as File;
}
