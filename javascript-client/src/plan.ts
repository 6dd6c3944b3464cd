import { S3FileFieldError } from './errors.js';

/** One part of the file: bytes [offset, offset + size). */
export interface PlannedPart {
  readonly partNumber: number;
  readonly offset: number;
  readonly size: number;
}

/**
 * Splits a file the way the server did: every part but the last holds
 * `partSize` bytes. The server's numbers are checked against the file, since a
 * wrong split would only surface as a size mismatch at finalize.
 */
export function planParts(fileSize: number, partSize: number, partCount: number): PlannedPart[] {
  const lastSize = fileSize - (partCount - 1) * partSize;
  const consistent =
    partCount >= 1 && (fileSize === 0 ? partCount === 1 : partSize > 0 && lastSize > 0 && lastSize <= partSize);
  if (!consistent) {
    throw new S3FileFieldError(
      'protocol',
      `the server split a ${fileSize}-byte file into ${partCount} parts of ${partSize} bytes, which does not add up`,
    );
  }
  return Array.from({ length: partCount }, (_, index) => ({
    partNumber: index + 1,
    offset: index * partSize,
    size: index === partCount - 1 ? lastSize : partSize,
  }));
}
