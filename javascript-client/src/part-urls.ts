import { S3FileFieldError } from './errors.js';
import type { PlannedPart } from './plan.js';
import type { SignedPart } from './protocol.js';

export interface PartUrlBookOptions {
  /** Signs the given parts (a call to `upload-parts/`). */
  readonly sign: (partNumbers: number[]) => Promise<SignedPart[]>;
  /** The parts still to upload, in upload order. */
  readonly parts: readonly PlannedPart[];
  /** URLs already at hand (the first batch from `upload-prepare/`). */
  readonly signed: readonly SignedPart[];
  /** How many upcoming parts should already have a URL, so no part waits for one. */
  readonly lookahead: number;
  /** The most parts one call may sign (the server's `max_part_urls`). */
  readonly maxPerCall: number;
  /**
   * Whether a part may join a batch signed for another part (default: all may).
   * The part asked for is always signed.
   */
  readonly batchable?: ((partNumber: number) => boolean) | undefined;
}

/**
 * Keeps a signed URL ready for each pending part. URLs come in batches: a
 * part whose URL is missing asks for it together with the parts after it, and
 * taking a URL asks ahead for the next batch once the parts within
 * `lookahead` run short. Concurrent requests for parts already being signed
 * share one call.
 */
export class PartUrlBook {
  private readonly urls = new Map<number, SignedPart>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly order: readonly number[];
  private readonly positions: ReadonlyMap<number, number>;
  private readonly sizes: ReadonlyMap<number, number>;

  constructor(private readonly options: PartUrlBookOptions) {
    this.order = options.parts.map((part) => part.partNumber);
    this.positions = new Map(this.order.map((partNumber, position) => [partNumber, position]));
    this.sizes = new Map(options.parts.map((part) => [part.partNumber, part.size]));
    this.remember(options.signed.filter((part) => this.positions.has(part.partNumber)));
  }

  async get(partNumber: number): Promise<SignedPart> {
    this.askAhead(partNumber);
    const known = this.urls.get(partNumber);
    if (known) return known;
    await (this.inFlight.get(partNumber) ?? this.signFrom(partNumber));
    return this.signedOrFail(partNumber);
  }

  /** Signs one part again, for a URL the store refused (expired). */
  async resign(partNumber: number): Promise<SignedPart> {
    this.urls.delete(partNumber);
    await this.signBatch([partNumber]);
    return this.signedOrFail(partNumber);
  }

  /** Drops the URL of a finished part. */
  forget(partNumber: number): void {
    this.urls.delete(partNumber);
  }

  private askAhead(partNumber: number): void {
    const position = this.positions.get(partNumber) ?? 0;
    const end = Math.min(this.order.length, position + 1 + this.options.lookahead);
    for (let next = position + 1; next < end; next++) {
      const upcoming = this.order[next] as number;
      if (!this.urls.has(upcoming) && !this.inFlight.has(upcoming)) {
        // A failure here is not lost: the part's own get() asks again and reports it.
        this.signFrom(upcoming).catch(() => {});
        return;
      }
    }
  }

  /** Signs `partNumber` and the batchable parts after it that have no URL, up to a full batch. */
  private signFrom(partNumber: number): Promise<void> {
    const batch = [partNumber];
    const batchable = this.options.batchable ?? (() => true);
    for (let position = (this.positions.get(partNumber) ?? 0) + 1; position < this.order.length; position++) {
      if (batch.length >= this.options.maxPerCall) break;
      const candidate = this.order[position] as number;
      if (this.urls.has(candidate) || this.inFlight.has(candidate)) continue;
      if (!batchable(candidate)) break;
      batch.push(candidate);
    }
    return this.signBatch(batch);
  }

  private signBatch(partNumbers: number[]): Promise<void> {
    const call: Promise<void> = Promise.resolve()
      .then(() => this.options.sign(partNumbers))
      .then((signed) => this.remember(signed))
      .finally(() => {
        for (const partNumber of partNumbers) {
          if (this.inFlight.get(partNumber) === call) this.inFlight.delete(partNumber);
        }
      });
    for (const partNumber of partNumbers) this.inFlight.set(partNumber, call);
    return call;
  }

  private remember(parts: readonly SignedPart[]): void {
    for (const part of parts) {
      const expected = this.sizes.get(part.partNumber);
      if (expected !== undefined && expected !== part.size) {
        throw new S3FileFieldError(
          'protocol',
          `the server signed part ${part.partNumber} for ${part.size} bytes, but the file's part ${part.partNumber} holds ${expected}`,
        );
      }
      this.urls.set(part.partNumber, part);
    }
  }

  private signedOrFail(partNumber: number): SignedPart {
    const signed = this.urls.get(partNumber);
    if (!signed) throw new S3FileFieldError('protocol', `upload-parts/ did not sign part ${partNumber}`);
    return signed;
  }
}
