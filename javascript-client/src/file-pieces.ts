/**
 * What `openFile` adds to a Blob: reading itself into one reused buffer, piece by piece, for a
 * reader that keeps no piece (a hash). A fresh buffer per piece costs Node page faults on every
 * byte (benchmarks/README.md, "Client CPU"). A Blob that has it also streams in pieces as large
 * as a transport wants, with no need to slice it first.
 */
export const readInPlace = Symbol.for('s3-file-field.readInPlace');

export interface ReadsInPlace {
  /** Hands every piece to `visit`, in order, in one buffer that the next piece overwrites. */
  [readInPlace](visit: (piece: Uint8Array) => void): Promise<void>;
}

export function readsInPlace(blob: Blob): blob is Blob & ReadsInPlace {
  return typeof (blob as Partial<ReadsInPlace>)[readInPlace] === 'function';
}
