/**
 * What `openFile` adds to a Blob: a reader that reads any range of it into a buffer the caller
 * owns. A hash reads a part through one reused buffer, and Node's transport sends from a pool of
 * buffers it reuses once the socket has taken them: a fresh buffer per piece costs Node page
 * faults on every byte, and peak RSS that grows with the file until V8 collects them
 * (benchmarks/README.md, "Client CPU").
 */
export const openPieceReader = Symbol.for('s3-file-field.openPieceReader');

/**
 * What a read of a file asks for at a time: the size of a `fs.createReadStream` read that costs
 * Node least per byte (benchmarks/README.md, "Client CPU").
 */
export const pieceBytes = 1024 * 1024;

export interface PieceReader {
  /**
   * Reads bytes of the Blob from `position` on into `into`, at most its length; gives how many,
   * at least one before the Blob's end (a file found shorter than it was is an error).
   */
  read(into: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface ReadsInPieces {
  [openPieceReader](): Promise<PieceReader>;
}

export function readsInPieces(blob: Blob): blob is Blob & ReadsInPieces {
  return typeof (blob as Partial<ReadsInPieces>)[openPieceReader] === 'function';
}

/**
 * Buffers of `pieceBytes` that pieces are read into, given back when their reader is done with
 * them (a hash at once, a transport once the socket has the bytes). Each part in flight holds
 * two (one sending, one being read) and a hash one: no more than this many wait idle.
 */
const idleBuffers: Uint8Array[] = [];
const maxIdleBuffers = 20;

/** A buffer of `pieceBytes`, not zeroed if reused: read into before it is read. */
export function takePieceBuffer(): Uint8Array {
  return idleBuffers.pop() ?? new Uint8Array(pieceBytes);
}

/** Gives back a buffer of {@link takePieceBuffer} that nothing uses any more. */
export function givePieceBuffer(buffer: Uint8Array): void {
  if (idleBuffers.length < maxIdleBuffers) idleBuffers.push(buffer);
}

/** Hands every piece of `blob` to `visit`, in order, in one reused buffer that the next piece overwrites. */
export async function visitPieces(blob: Blob & ReadsInPieces, visit: (piece: Uint8Array) => void): Promise<void> {
  const buffer = takePieceBuffer();
  const reader = await blob[openPieceReader]();
  try {
    for (let position = 0; position < blob.size; ) {
      const bytesRead = await reader.read(
        buffer.subarray(0, Math.min(buffer.byteLength, blob.size - position)),
        position,
      );
      visit(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await reader.close();
    givePieceBuffer(buffer);
  }
}
