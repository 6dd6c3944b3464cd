import {
  blobChecksum,
  type ChecksumAlgorithm,
  etagIsMd5,
  type Hasher,
  type Hashers,
  PartChecksums,
} from './checksums.js';
import { PartChecksumError } from './errors.js';
import type { PlannedPart } from './plan.js';
import { runBounded } from './pool.js';

/** What a client learns of its server and stores as it uploads, for its later uploads. */
export class ServerTraits {
  /** The server refuses parts that are not signed for their Content-MD5 (`S3FF_REQUIRE_CHECKSUMS`). */
  requiresSignedChecksums = false;
  /** Fields whose store gives ETags that are not MD5s (an encrypted bucket): the store checks their parts. */
  private readonly opaqueEtagFields = new Set<string>();

  etagsAreOpaque(fieldId: string): boolean {
    return this.opaqueEtagFields.has(fieldId);
  }

  learnOpaqueEtags(fieldId: string): void {
    this.opaqueEtagFields.add(fieldId);
  }
}

/**
 * How an upload makes sure each part is stored as it was read:
 * - `signed`: every part URL is signed for the part's checksum (CRC32 where the
 *   store verifies it, hashed before the part is sent), and the store refuses
 *   other bytes; it costs a read of the part and an `upload-parts/` call
 *   before the part can start, which CRC32 makes cheap (MD5 only for a server
 *   that requires checksums and offers no cheaper one).
 * - `etag`: each part is hashed while it is sent and its MD5 compared with the
 *   ETag the store answers (the MD5 of what it got). On a mismatch the part
 *   is sent again, signed for its Content-MD5 so the store checks it; a store
 *   whose ETags turn out not to be MD5s has every part checked that way.
 * - `none`: checksums are off.
 */
export type IntegrityMode = 'signed' | 'etag' | 'none';

export interface PartIntegrityOptions {
  readonly mode: IntegrityMode;
  /** In mode `signed`, the algorithm every part URL is signed for. */
  readonly algorithm: ChecksumAlgorithm;
  readonly blob: Blob;
  readonly fieldId: string;
  readonly traits: ServerTraits;
  readonly hashers: Hashers;
  /** Whether the transport hands over the bytes it sends, to hash them on the way. */
  readonly passesBytes: boolean;
  /** Parts sent at once: how far ahead hashing may run. */
  readonly concurrency: number;
  readonly signal: AbortSignal;
}

/**
 * One upload's integrity strategy, in one place: which parts are hashed and
 * when, which URLs are signed for a checksum, and how the store's answer is judged.
 */
export class PartIntegrity {
  /** The MD5 of each part hashed so far (base64). */
  private readonly md5s = new Map<number, Promise<string>>();
  /** Parts whose ETag did not match: they go again signed for their Content-MD5. */
  private readonly checkedByStore = new Set<number>();

  constructor(private readonly options: PartIntegrityOptions) {}

  get mode(): IntegrityMode {
    return this.options.mode;
  }

  /** In mode `signed`: the parts' checksums, hashed a little ahead of sending, for signing URLs in batches. */
  batchChecksums(pending: readonly PlannedPart[]): PartChecksums | undefined {
    const { mode, algorithm, blob, hashers, concurrency, signal } = this.options;
    if (mode !== 'signed') return undefined;
    return new PartChecksums({
      parts: pending,
      blob,
      checksum: (slice) => blobChecksum(slice, hashers[algorithm]),
      ahead: concurrency,
      signal,
    });
  }

  /** Whether this part's next attempt goes signed for its own Content-MD5, for the store to check. */
  storeChecks(partNumber: number): boolean {
    if (this.options.mode !== 'etag') return false;
    return this.checkedByStore.has(partNumber) || this.options.traits.etagsAreOpaque(this.options.fieldId);
  }

  /**
   * For an attempt judged by its ETag: a hasher to feed with the bytes sent,
   * when the transport passes them and the MD5 is not known yet; otherwise
   * the part is hashed from the file meanwhile.
   */
  async hasherWhileSending(part: PlannedPart): Promise<Hasher | undefined> {
    if (this.options.mode !== 'etag' || this.md5s.has(part.partNumber)) return undefined;
    if (this.options.passesBytes) return this.options.hashers.md5();
    this.md5Of(part);
    return undefined;
  }

  /** A part was stored, so every byte went through `hasher`. */
  hashedWhileSending(partNumber: number, hasher: Hasher): void {
    this.md5s.set(partNumber, Promise.resolve(hasher.digest()));
  }

  /** Judges a part stored by a plain attempt: throws {@link PartChecksumError} when it arrived altered. */
  async judge(part: PlannedPart, etag: string, status: number): Promise<void> {
    if (this.options.mode !== 'etag') return;
    const md5 = await this.md5Of(part);
    if (etagIsMd5(etag, md5)) return;
    this.checkedByStore.add(part.partNumber);
    // Hashed afresh from the file for the store to check: what was sent may be what went wrong.
    this.md5s.delete(part.partNumber);
    throw new PartChecksumError(part.partNumber, status, etag, md5);
  }

  /**
   * Judges a part the store checked: an ETag that is not its MD5 is the store's
   * own kind, so the parts to come of this field go that way from the start.
   */
  judgeStoreChecked(etag: string, md5: string): void {
    if (!etagIsMd5(etag, md5)) this.options.traits.learnOpaqueEtags(this.options.fieldId);
  }

  /** Whether an object stored by an attempt whose answer was lost holds this part's bytes, as far as its ETag tells. */
  async storedAsSent(part: PlannedPart, etag: string): Promise<boolean> {
    if (this.options.traits.etagsAreOpaque(this.options.fieldId)) return true;
    return etagIsMd5(etag, await this.md5Of(part));
  }

  /**
   * In mode `etag`, on resuming: compares the parts stored before with their
   * ETags, which the last try may not have lived to do (the page closed as they
   * landed). One that does not match is dropped, to go again for the store to check.
   */
  async checkStored(parts: readonly PlannedPart[], etags: Map<number, string>): Promise<void> {
    if (this.options.mode !== 'etag') return;
    const { concurrency, signal } = this.options;
    const stored = parts.filter((part) => etags.has(part.partNumber));
    await runBounded(
      stored,
      concurrency,
      async (part) => {
        signal.throwIfAborted();
        if (etagIsMd5(etags.get(part.partNumber) as string, await this.md5Of(part))) return;
        etags.delete(part.partNumber);
        this.checkedByStore.add(part.partNumber);
      },
      () => {},
    );
  }

  /** The part's MD5, hashed once whatever the attempts. */
  md5Of({ partNumber, offset, size }: PlannedPart): Promise<string> {
    let md5 = this.md5s.get(partNumber);
    if (md5 === undefined) {
      md5 = blobChecksum(this.options.blob.slice(offset, offset + size), this.options.hashers.md5);
      // A failed hash is reported by the attempt that awaits it, if any is left.
      md5.catch(() => {});
      this.md5s.set(partNumber, md5);
    }
    return md5;
  }
}
