/// <reference types="node" />
// Node's declarations for node:crypto's and node:zlib's types; the modules are loaded at run time, in Node only.
import { buf as crc32OfBytes } from 'crc-32';
import { readsInPieces, visitPieces } from './file-pieces.js';
import { Md5, toBase64 } from './md5.js';
import type { PlannedPart } from './plan.js';

/**
 * The checksums this client computes, cheapest first: CRC32 where the store
 * verifies it (the server says), MD5 otherwise (`Content-MD5`, which every
 * S3-compatible store checks, and which a part's ETag usually is).
 */
export type ChecksumAlgorithm = 'crc32' | 'md5';

/** A checksum fed piece by piece; `digest` gives its base64, as S3's headers carry it. */
export interface Hasher {
  update(piece: Uint8Array): void;
  digest(): string;
}

export type CreateHasher = () => Promise<Hasher>;

/** How to make a hasher of each algorithm, in this runtime. */
export type Hashers = Readonly<Record<ChecksumAlgorithm, CreateHasher>>;

/** MD5 in plain JavaScript, for browsers: WebCrypto has no MD5. */
const scriptMd5Hasher: CreateHasher = async () => {
  const hasher = new Md5();
  return { update: (piece) => hasher.update(piece), digest: () => toBase64(hasher.digest()) };
};

/** CRC32 in plain JavaScript (the crc-32 package), for browsers. */
const scriptCrc32Hasher: CreateHasher = async () => {
  let crc = 0;
  return {
    update: (piece) => {
      crc = crc32OfBytes(piece, crc);
    },
    digest: () => crc32Base64(crc),
  };
};

/** What browsers (and runtimes other than Node) hash with. */
export const scriptHashers: Hashers = { md5: scriptMd5Hasher, crc32: scriptCrc32Hasher };

/** Node's own: node:crypto's MD5, and node:zlib's native CRC32 where the Node has it (20.15 on). */
export const nodeHashers: Hashers = {
  md5: async () => {
    const { createHash } = await import('node:crypto');
    const hasher = createHash('md5');
    return { update: (piece) => hasher.update(piece), digest: () => hasher.digest('base64') };
  },
  crc32: async () => {
    const zlib = await import('node:zlib');
    const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
    if (native === undefined) return scriptCrc32Hasher();
    let crc = 0;
    return {
      update: (piece) => {
        crc = native(piece, crc);
      },
      digest: () => crc32Base64(crc),
    };
  },
};

function crc32Base64(crc: number): string {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, crc >>> 0);
  return toBase64(bytes);
}

/**
 * Hashing runs on the page's one thread in a browser: it gives the event loop
 * a turn this often, so that the page never freezes for longer (a Blob's
 * stream hands over chunks already read without one).
 */
const browserSliceMs = 8;

/** Lets the event loop run (input, rendering, timers) before the hashing goes on. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

const inBrowser = typeof document !== 'undefined' && typeof MessageChannel === 'function';

/**
 * The checksum of a Blob, read as a stream: memory stays flat, and Node's
 * chunks of a file-backed Blob leave less garbage than slices read whole.
 */
export async function blobChecksum(blob: Blob, createHasher: CreateHasher): Promise<string> {
  const hasher = await createHasher();
  if (readsInPieces(blob)) {
    await visitPieces(blob, (piece) => hasher.update(piece));
    return hasher.digest();
  }
  const reader = blob.stream().getReader();
  let sliceStart = performance.now();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    hasher.update(read.value);
    if (inBrowser && performance.now() - sliceStart >= browserSliceMs) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  return hasher.digest();
}

/**
 * Whether `etag` is the MD5 whose base64 is `contentMd5`. S3, MinIO and
 * SeaweedFS give a part's (or a single PUT's) hex MD5 as its ETag, unless the
 * object is encrypted with a key of the store's (SSE-KMS, SSE-C): then the ETag
 * says nothing of the bytes.
 */
export function etagIsMd5(etag: string, contentMd5: string): boolean {
  const hex = /^"?([0-9a-fA-F]{32})"?$/.exec(etag.trim())?.[1];
  if (hex === undefined) return false;
  const digest = new Uint8Array(16);
  for (let index = 0; index < 16; index++) digest[index] = Number.parseInt(hex.slice(2 * index, 2 * index + 2), 16);
  return toBase64(digest) === contentMd5;
}

export interface PartChecksumsOptions {
  /** The parts to hash, in upload order. */
  readonly parts: readonly PlannedPart[];
  readonly blob: Blob;
  /** The base64 checksum of a slice of the file. */
  readonly checksum: (slice: Blob) => Promise<string>;
  /** How many parts beyond the furthest one asked for may be hashed already. */
  readonly ahead: number;
  readonly signal: AbortSignal;
}

type Waiter = { resolve: (md5: string) => void; reject: (error: unknown) => void };

/**
 * The checksum of each part of an upload, needed before its URL can be
 * signed. Parts are hashed one at a time in upload order (hashing is CPU work:
 * parallel hashes would only compete), and only a few parts ahead of those
 * asked for, so that a part's second read, to send it, follows its first
 * closely (likely from the OS cache) and an abort wastes little.
 */
export class PartChecksums {
  private readonly digests = new Map<number, string>();
  private readonly waiters = new Map<number, Waiter[]>();
  private readonly positions: ReadonlyMap<number, number>;
  private next = 0;
  private wanted = -1;
  private hashing = false;
  private failure: { error: unknown } | undefined;

  constructor(private readonly options: PartChecksumsOptions) {
    this.positions = new Map(options.parts.map((part, position) => [part.partNumber, position]));
  }

  /** Whether this part's checksum is known already. */
  has(partNumber: number): boolean {
    return this.digests.has(partNumber);
  }

  /** This part's checksum, if hashed already. */
  known(partNumber: number): string | undefined {
    return this.digests.get(partNumber);
  }

  /** The checksums of these parts, once hashed. */
  async of(partNumbers: readonly number[]): Promise<Map<number, string>> {
    const digests = await Promise.all(partNumbers.map((partNumber) => this.digestOf(partNumber)));
    return new Map(partNumbers.map((partNumber, index) => [partNumber, digests[index] as string]));
  }

  private digestOf(partNumber: number): Promise<string> {
    const known = this.digests.get(partNumber);
    if (known !== undefined) return Promise.resolve(known);
    if (this.failure) return Promise.reject(this.failure.error);
    const position = this.positions.get(partNumber);
    if (position === undefined) return Promise.reject(new RangeError(`part ${partNumber} is not to be hashed`));
    return new Promise((resolve, reject) => {
      this.waiters.set(partNumber, [...(this.waiters.get(partNumber) ?? []), { resolve, reject }]);
      this.wanted = Math.max(this.wanted, position);
      void this.hashAhead();
    });
  }

  private async hashAhead(): Promise<void> {
    if (this.hashing) return;
    this.hashing = true;
    const { parts, blob, checksum, ahead, signal } = this.options;
    try {
      while (this.next < parts.length && this.next <= this.wanted + ahead) {
        signal.throwIfAborted();
        const { partNumber, offset, size } = parts[this.next] as PlannedPart;
        const digest = await checksum(blob.slice(offset, offset + size));
        this.digests.set(partNumber, digest);
        this.next++;
        for (const waiter of this.waiters.get(partNumber) ?? []) waiter.resolve(digest);
        this.waiters.delete(partNumber);
      }
    } catch (error) {
      this.failure = { error };
      for (const waiters of this.waiters.values()) {
        for (const waiter of waiters) waiter.reject(error);
      }
      this.waiters.clear();
    } finally {
      this.hashing = false;
    }
  }
}
