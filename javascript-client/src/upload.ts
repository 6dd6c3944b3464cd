import type { UploadApi } from './api.js';
import { blobMd5, type CreateMd5Hasher, etagIsMd5, type Md5Hasher, PartChecksums } from './checksums.js';
import {
  ApiCallError,
  MissingEtagError,
  PartChecksumError,
  PartUploadError,
  S3FileFieldError,
  UploadAbortedError,
} from './errors.js';
import { PartUrlBook } from './part-urls.js';
import { type PlannedPart, planParts } from './plan.js';
import { runBounded } from './pool.js';
import { type ProgressListener, ProgressTracker } from './progress.js';
import {
  defaultMaxPartUrls,
  type FinalizedUpload,
  type PreparedUpload,
  type SignedPart,
  type StoredPart,
} from './protocol.js';
import { type ResumeRecord, type ResumeStore, resumeKey } from './resume.js';
import { isRetryableStatus, type RetryRuntime, type RetryVerdict, withRetries } from './retry.js';
import { StallGuard } from './stall.js';
import { readStoreError } from './store-error.js';
import type { PartPutResponse, PartTransport } from './transport/types.js';

/** Everything an upload needs that outlives it (the client's configuration). */
export interface UploadEngine {
  readonly api: UploadApi;
  readonly apiBaseUrl: string;
  readonly transport: PartTransport;
  readonly concurrency: number;
  readonly retry: Omit<RetryRuntime, 'signal'>;
  readonly resumeStore: ResumeStore | undefined;
  readonly progressIntervalMs: number;
  readonly now: () => number;
  /** Whether to make sure each part is stored as it was read (see {@link PartIntegrity}). */
  readonly checksums: boolean;
  /** Hashes a part read from the file, or, through a transport that passes its bytes, as it goes. */
  readonly createMd5Hasher: CreateMd5Hasher;
  /** What earlier uploads found out about the server and its stores. */
  readonly traits: ServerTraits;
  /** A part attempt without progress for this long fails and is retried; 0: never. */
  readonly stallTimeoutMs: number;
}

/** What a client learns of its server and stores as it uploads, for its later uploads. */
export interface ServerTraits {
  /** The server refuses parts that are not signed for their Content-MD5 (`S3FF_REQUIRE_CHECKSUMS`). */
  requiresSignedChecksums: boolean;
  /** Fields whose store gives ETags that are not MD5s (an encrypted bucket): the store checks their parts. */
  readonly opaqueEtagFields: Set<string>;
}

/**
 * How an upload makes sure each part is stored as it was read:
 * - `signed`: every part URL is signed for the part's Content-MD5 (hashed
 *   before it is sent), and the store refuses other bytes; for a server that
 *   requires it, as it costs a read of the part and an `upload-parts/` call
 *   before the part can start.
 * - `etag`: each part is hashed while it is sent and its MD5 compared with the
 *   ETag the store answers (the MD5 of what it got). On a mismatch the part
 *   is sent again, signed for its Content-MD5 so the store checks it; a store
 *   whose ETags turn out not to be MD5s has every part checked that way.
 * - `none`: checksums are off.
 */
type PartIntegrity = 'signed' | 'etag' | 'none';

/**
 * S3's smallest part: a file no larger than this always goes up in one PUT,
 * so its one checksum can go with `upload-prepare/`.
 */
const surelySinglePartBytes = 5 * 1024 * 1024;

export interface UploadInput {
  readonly blob: Blob;
  readonly fieldId: string;
  readonly fileName: string;
  readonly contentType: string | undefined;
  readonly lastModified: number | undefined;
}

export interface UploadControls {
  readonly onProgress: ProgressListener | undefined;
  readonly signal: AbortSignal | undefined;
}

/** An upload the server knows about: prepared now, or found in the resume store. */
interface UploadSession {
  readonly signature: string;
  readonly multipart: boolean;
  readonly partHeaders: Readonly<Record<string, string>>;
  /** The most part URLs one `upload-parts/` call may ask for. */
  readonly maxPartUrls: number;
  readonly integrity: PartIntegrity;
  readonly parts: readonly PlannedPart[];
  /** Part URLs at hand (from `upload-prepare/`). */
  readonly signed: readonly SignedPart[];
  /** ETags of the parts the store holds. */
  readonly etags: Map<number, string>;
}

export function runUpload(
  engine: UploadEngine,
  input: UploadInput,
  controls: UploadControls,
): Promise<FinalizedUpload> {
  return new UploadRun(engine, input, controls).run();
}

class UploadRun {
  /** Aborted by the caller's signal, or by the first failed part to stop the others. */
  private readonly controller = new AbortController();
  private readonly signal = this.controller.signal;
  private readonly progress: ProgressTracker;
  private readonly resumeKey: string | undefined;
  /** The MD5 of each part hashed so far (base64). */
  private readonly partMd5s = new Map<number, Promise<string>>();
  /** Parts whose ETag did not match: they go again signed for their Content-MD5. */
  private readonly checkedByStore = new Set<number>();

  constructor(
    private readonly engine: UploadEngine,
    private readonly input: UploadInput,
    private readonly controls: UploadControls,
  ) {
    this.progress = new ProgressTracker(input.blob.size, controls.onProgress, {
      intervalMs: engine.progressIntervalMs,
      now: engine.now,
    });
    this.resumeKey =
      engine.resumeStore &&
      resumeKey({
        apiBaseUrl: engine.apiBaseUrl,
        fieldId: input.fieldId,
        fileName: input.fileName,
        fileSize: input.blob.size,
        lastModified: input.lastModified,
        contentType: input.contentType,
      });
  }

  async run(): Promise<FinalizedUpload> {
    const callerSignal = this.controls.signal;
    const stopOnCallerAbort = () => this.controller.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', stopOnCallerAbort, { once: true });
    let session: UploadSession | undefined;
    try {
      this.progress.setState('preparing');
      if (callerSignal?.aborted) stopOnCallerAbort();
      this.signal.throwIfAborted();
      const opened = await this.openSession();
      session = opened;
      await this.sendParts(opened);
      this.progress.setState('finalizing');
      const etags = opened.multipart
        ? opened.parts.map(({ partNumber }) => ({ partNumber, etag: opened.etags.get(partNumber) as string }))
        : [];
      const result = await this.engine.api.finalize(opened.signature, etags, this.signal);
      await this.storeRecord((store, key) => store.delete(key));
      this.progress.setState('done');
      return result;
    } catch (error) {
      throw await this.fail(error, session);
    } finally {
      callerSignal?.removeEventListener('abort', stopOnCallerAbort);
    }
  }

  /** Cleans up after a failure and gives the error to throw. */
  private async fail(error: unknown, session: UploadSession | undefined): Promise<unknown> {
    if (this.controls.signal?.aborted) {
      if (session) this.abortOnServer(session);
      await this.storeRecord((store, key) => store.delete(key));
      this.progress.setState('aborted');
      return new UploadAbortedError(this.controls.signal.reason);
    }
    // A transient failure (network, overloaded store) of a resumable upload keeps
    // its parts for the next try; any other failure frees them.
    const keepForResume = this.resumeKey !== undefined && isTransient(error);
    if (session && !keepForResume) {
      this.abortOnServer(session);
      await this.storeRecord((store, key) => store.delete(key));
    }
    this.progress.setState('error');
    return error;
  }

  /**
   * Best effort and not awaited: the caller hears of the failure at once, and
   * a store's lifecycle rule clears a multipart upload whose abort got lost.
   */
  private abortOnServer(session: UploadSession): void {
    this.engine.api.abort(session.signature).catch(() => {});
  }

  private async openSession(): Promise<UploadSession> {
    const resumed = await this.resumeSession();
    if (resumed) return resumed;
    const { blob } = this.input;
    const { prepared, checksums } = await this.prepare();
    const parts = planParts(blob.size, prepared.partSize, prepared.partCount);
    // The whole file's checksum went as part 1's; a server that splits even so
    // small a file signed part 1 for the wrong checksum: it is signed again.
    const signedForWholeFile = checksums !== undefined && checksums.size > 0 && parts[0]?.size !== blob.size;
    // A single PUT writes only where no object is, so one stored altered could not be
    // sent again: its URL is signed for its checksum, and the store checks the bytes.
    const signOnePut = prepared.uploadId === null && this.engine.checksums && !prepared.checksums;
    const session: UploadSession = {
      signature: prepared.uploadSignature,
      multipart: prepared.uploadId !== null,
      partHeaders: prepared.partHeaders,
      maxPartUrls: prepared.maxPartUrls,
      integrity: signOnePut ? 'signed' : this.integrityFor(prepared.checksums),
      parts,
      signed: signedForWholeFile || signOnePut ? [] : prepared.parts,
      etags: new Map(),
    };
    const record: ResumeRecord = {
      uploadSignature: prepared.uploadSignature,
      objectKey: prepared.objectKey,
      multipart: session.multipart,
      partSize: prepared.partSize,
      partCount: prepared.partCount,
      partHeaders: prepared.partHeaders,
      checksums: session.integrity === 'signed',
      maxPartUrls: prepared.maxPartUrls,
      createdAt: Date.now(),
    };
    await this.storeRecord((store, key) => store.set(key, record));
    return session;
  }

  /**
   * Prepares the upload with parts checked by their ETags, or signed for their
   * checksums where the server requires it (it refuses the first way with a
   * `checksum` error; the client remembers).
   */
  private async prepare(): Promise<{ prepared: PreparedUpload; checksums: Map<number, string> | undefined }> {
    const { blob, fieldId, fileName, contentType } = this.input;
    const { api, traits } = this.engine;
    const prepareWith = (checksums: Map<number, string> | undefined) =>
      api.prepare({ fieldId, fileName, fileSize: blob.size, contentType, checksums }, this.signal);
    if (this.engine.checksums && !traits.requiresSignedChecksums) {
      try {
        return { prepared: await prepareWith(undefined), checksums: undefined };
      } catch (error) {
        if (!(error instanceof ApiCallError && error.status === 400 && error.fieldErrors?.checksum)) throw error;
        traits.requiresSignedChecksums = true;
      }
    }
    const checksums = await this.checksumsToPrepare();
    return { prepared: await prepareWith(checksums), checksums };
  }

  /** What `upload-prepare/` gets to sign part URLs for checksums: for a small file, its one part's. */
  private async checksumsToPrepare(): Promise<Map<number, string> | undefined> {
    const { blob } = this.input;
    if (!this.engine.checksums) return undefined;
    return blob.size <= surelySinglePartBytes
      ? new Map([[1, await blobMd5(blob, this.engine.createMd5Hasher)]])
      : new Map();
  }

  /** How the parts are checked, given whether the server signs each for its Content-MD5. */
  private integrityFor(signedChecksums: boolean): PartIntegrity {
    return signedChecksums ? 'signed' : this.engine.checksums ? 'etag' : 'none';
  }

  /** The remembered upload of this file, with the parts the store already holds. */
  private async resumeSession(): Promise<UploadSession | undefined> {
    const record = await this.storeRecord((store, key) => store.get(key));
    if (!record) return undefined;
    let stored: StoredPart[];
    let parts: PlannedPart[];
    try {
      parts = planParts(this.input.blob.size, record.partSize, record.partCount);
      stored = await this.engine.api.status(record.uploadSignature, this.signal);
    } catch (error) {
      // The server no longer knows the upload (signature expired, upload aborted): start over.
      if (!(error instanceof ApiCallError && error.status >= 400 && error.status < 500)) throw error;
      await this.storeRecord((store, key) => store.delete(key));
      return undefined;
    }
    const etags = new Map<number, string>();
    for (const part of stored) {
      // A part of another size is a leftover of some other file: send ours again.
      if (parts[part.partNumber - 1]?.size === part.size) etags.set(part.partNumber, part.etag);
    }
    const integrity = this.integrityFor(record.checksums === true);
    if (integrity === 'etag') await this.checkStoredParts(parts, etags);
    return {
      signature: record.uploadSignature,
      multipart: record.multipart,
      partHeaders: record.partHeaders,
      maxPartUrls: record.maxPartUrls ?? defaultMaxPartUrls,
      integrity,
      parts,
      signed: [],
      etags,
    };
  }

  /**
   * Compares the parts stored before with their ETags, which the last try may
   * not have lived to do (the page closed as they landed). One that does not
   * match goes again, for the store to check.
   */
  private async checkStoredParts(parts: readonly PlannedPart[], etags: Map<number, string>): Promise<void> {
    await runBounded(
      parts.filter((part) => etags.has(part.partNumber)),
      this.engine.concurrency,
      async (part) => {
        this.signal.throwIfAborted();
        if (etagIsMd5(etags.get(part.partNumber) as string, await this.md5Of(part))) return;
        etags.delete(part.partNumber);
        this.checkedByStore.add(part.partNumber);
      },
      () => {},
    );
  }

  private async sendParts(session: UploadSession): Promise<void> {
    this.progress.setPartCount(session.parts.length);
    for (const part of session.parts) {
      if (session.etags.has(part.partNumber)) this.progress.partAlreadyStored(part.size);
    }
    this.progress.setState('uploading');
    const pending = session.parts.filter((part) => !session.etags.has(part.partNumber));
    if (pending.length === 0) return;
    const checksums =
      session.integrity === 'signed' &&
      new PartChecksums({
        parts: pending,
        blob: this.input.blob,
        contentMd5: (blob) => blobMd5(blob, this.engine.createMd5Hasher),
        ahead: this.engine.concurrency,
        signal: this.signal,
      });
    const urls = new PartUrlBook({
      sign: async (partNumbers) =>
        this.engine.api.signParts(
          session.signature,
          partNumbers,
          this.signal,
          checksums ? await checksums.of(partNumbers) : undefined,
        ),
      // A part joins a batch only once hashed: a batch waits for its slowest part.
      batchable: checksums ? (partNumber) => checksums.has(partNumber) : undefined,
      parts: pending,
      signed: session.signed,
      lookahead: 2 * this.engine.concurrency,
      maxPerCall: session.maxPartUrls,
    });
    await runBounded(
      pending,
      this.engine.concurrency,
      (part) => this.sendPart(session, urls, part),
      (error) => this.controller.abort(error),
    );
  }

  private async sendPart(session: UploadSession, urls: PartUrlBook, part: PlannedPart): Promise<void> {
    const etag = await withRetries(
      `part ${part.partNumber}`,
      { ...this.engine.retry, signal: this.signal },
      () => this.putPart(session, urls, part),
      classifyPartFailure,
    );
    session.etags.set(part.partNumber, etag);
    urls.forget(part.partNumber);
    this.progress.partStored(part.partNumber, part.size);
  }

  /** One attempt at a part; gives its ETag. */
  private async putPart(session: UploadSession, urls: PartUrlBook, part: PlannedPart): Promise<string> {
    const { partNumber } = part;
    if (session.integrity === 'etag' && this.storeChecks(partNumber)) return this.putCheckedByStore(session, part);
    const hashed = session.integrity === 'etag';
    const response = await this.putSigned(
      session,
      part,
      (again) => (again ? urls.resign(partNumber) : urls.get(partNumber)),
      hashed,
    );
    const etag = storedEtag(part, response);
    if (hashed) {
      const md5 = await this.md5Of(part);
      if (!etagIsMd5(etag, md5)) {
        this.checkedByStore.add(partNumber);
        // Hashed afresh from the file for the store to check: what was sent may be what went wrong.
        this.partMd5s.delete(partNumber);
        throw new PartChecksumError(partNumber, response.status, etag, md5);
      }
    }
    return etag;
  }

  /**
   * One attempt at a part signed for its Content-MD5, so that the store checks
   * the bytes: after its ETag did not match, or for a store whose ETags are not MD5s.
   */
  private async putCheckedByStore(session: UploadSession, part: PlannedPart): Promise<string> {
    const { partNumber, size } = part;
    const md5 = await this.md5Of(part);
    const sign = async () => {
      const [signed] = await this.engine.api.signParts(
        session.signature,
        [partNumber],
        this.signal,
        new Map([[partNumber, md5]]),
      );
      if (signed?.partNumber !== partNumber || signed.size !== size) {
        throw new S3FileFieldError('protocol', `upload-parts/ did not sign part ${partNumber} for ${size} bytes`);
      }
      return signed;
    };
    const response = await this.putSigned(session, part, sign, false);
    const etag = storedEtag(part, response);
    // The store took bytes it checked (if the server signed the checksum; one
    // that does not know checksums gets the part unchecked, as it would anyway):
    // an ETag that is not their MD5 is the store's own kind, so the parts to
    // come of this field go this way from the start.
    if (!etagIsMd5(etag, md5)) this.engine.traits.opaqueEtagFields.add(this.input.fieldId);
    return etag;
  }

  /**
   * One PUT of a part with a URL from `sign`. A URL the store refuses (403) has
   * most often expired (a long upload, a resumed one): it is signed again, and
   * if a fresh URL is refused too, the refusal is real and is reported.
   */
  private async putSigned(
    session: UploadSession,
    part: PlannedPart,
    sign: (again: boolean) => Promise<SignedPart>,
    hashed: boolean,
  ): Promise<PartPutResponse> {
    const attempt = async (again: boolean): Promise<PartPutResponse | undefined> => {
      let signed: SignedPart;
      try {
        signed = await sign(again);
      } catch (error) {
        // upload-parts/ signs nothing for a single PUT whose file is stored (409).
        if (!session.multipart && error instanceof ApiCallError && error.status === 409) return undefined;
        throw error;
      }
      return this.put(session, part, signed, hashed);
    };
    const first = await attempt(false);
    const response = first?.status === 403 ? await attempt(true) : first;
    if (session.multipart) return response as PartPutResponse;
    if (response === undefined) return this.storedEarlier(session, part, { status: 409, etag: null, body: '' });
    return response.status === 412 ? this.storedEarlier(session, part, response) : response;
  }

  /**
   * A single PUT writes only where no object is (it is signed for `If-None-Match: *`),
   * and the key is this upload's alone: a 412 (or upload-parts/ refusing to sign, 409)
   * means an earlier attempt was stored and its answer lost. The object the store holds stands for this attempt when it
   * has the part's size and, where the store's ETags are MD5s, the part's MD5; bytes
   * stored altered cannot be replaced, so the upload fails and is started again.
   */
  private async storedEarlier(
    session: UploadSession,
    part: PlannedPart,
    refused: PartPutResponse,
  ): Promise<PartPutResponse> {
    const [stored] = await this.engine.api.status(session.signature, this.signal);
    if (stored?.partNumber !== part.partNumber || stored.size !== part.size) return refused;
    const opaque = this.engine.traits.opaqueEtagFields.has(this.input.fieldId);
    if (!opaque && !etagIsMd5(stored.etag, await this.md5Of(part))) {
      throw new PartUploadError({
        partNumber: part.partNumber,
        status: refused.status,
        message: `part ${part.partNumber} was stored altered by an attempt whose answer was lost, and a stored file cannot be replaced: upload it again`,
      });
    }
    return { status: 200, etag: stored.etag, body: '' };
  }

  private storeChecks(partNumber: number): boolean {
    return this.checkedByStore.has(partNumber) || this.engine.traits.opaqueEtagFields.has(this.input.fieldId);
  }

  /** The part's MD5, hashed once whatever the attempts. */
  private md5Of({ partNumber, offset, size }: PlannedPart): Promise<string> {
    let md5 = this.partMd5s.get(partNumber);
    if (md5 === undefined) {
      md5 = blobMd5(this.input.blob.slice(offset, offset + size), this.engine.createMd5Hasher);
      // A failed hash is reported by the attempt that awaits it, if any is left.
      md5.catch(() => {});
      this.partMd5s.set(partNumber, md5);
    }
    return md5;
  }

  /** Hashes the part as it is sent, from the bytes the transport passes, or from a read of its own meanwhile. */
  private async hasherWhileSending(part: PlannedPart): Promise<Md5Hasher | undefined> {
    if (this.partMd5s.has(part.partNumber)) return undefined;
    if (this.engine.transport.passesBytes) return this.engine.createMd5Hasher();
    this.md5Of(part);
    return undefined;
  }

  /** One PUT of a part; `hashed`: its MD5 is known once it is stored (see {@link md5Of}). */
  private async put(
    session: UploadSession,
    part: PlannedPart,
    signed: SignedPart,
    hashed: boolean,
  ): Promise<PartPutResponse> {
    const { partNumber, offset, size } = part;
    const { transport, stallTimeoutMs } = this.engine;
    const hasher = hashed ? await this.hasherWhileSending(part) : undefined;
    const attempt = new StallGuard(this.signal, transport.reportsProgress ? stallTimeoutMs : 0);
    this.progress.partSending(partNumber, 0);
    try {
      const response = await transport.put({
        url: signed.uploadUrl,
        // A slice, so only this part is ever read; and without a type, so no
        // Content-Type goes out beyond the signed part headers.
        body: this.input.blob.slice(offset, offset + size),
        headers: { ...session.partHeaders, ...signed.headers },
        signal: attempt.signal,
        onProgress: (sentBytes) => {
          attempt.progressed();
          this.progress.partSending(partNumber, Math.min(sentBytes, size));
        },
        onBytes: hasher && ((piece) => hasher.update(piece)),
      });
      // Stored, so every byte went through `onBytes`.
      if (hasher && response.status >= 200 && response.status < 300) {
        this.partMd5s.set(partNumber, Promise.resolve(hasher.digest()));
      }
      return response;
    } catch (error) {
      if (this.signal.aborted) throw error;
      const reason = attempt.stalled
        ? `stalled, nothing moved for ${stallTimeoutMs / 1000} s`
        : `no response (${error instanceof Error ? error.message : String(error)})`;
      throw new PartUploadError({
        partNumber,
        status: 0,
        message: `upload of part ${partNumber} failed: ${reason}`,
        cause: error,
      });
    } finally {
      attempt.release();
    }
  }

  /** Runs an action on this upload's resume record, if resuming is on. */
  private async storeRecord<T>(action: (store: ResumeStore, key: string) => T | Promise<T>): Promise<T | undefined> {
    const { resumeStore } = this.engine;
    if (!resumeStore || this.resumeKey === undefined) return undefined;
    try {
      return await action(resumeStore, this.resumeKey);
    } catch {
      // Resuming is a convenience: a full or broken store must not fail the upload.
      return undefined;
    }
  }
}

/** The ETag of a part the store took; for any other answer, the error that says why not. */
function storedEtag(part: PlannedPart, response: PartPutResponse): string {
  if (response.status >= 200 && response.status < 300) {
    if (response.etag === null) throw new MissingEtagError(part.partNumber, response.status);
    return response.etag;
  }
  const storeError = readStoreError(response.body);
  throw new PartUploadError({
    partNumber: part.partNumber,
    status: response.status,
    storeCode: storeError.code,
    storeMessage: storeError.message,
  });
}

/** Network errors and overloaded or failing servers; not refusals, nor protocol faults. */
function isTransient(error: unknown): boolean {
  const status =
    error instanceof ApiCallError || (error instanceof PartUploadError && error.code === 'part') ? error.status : -1;
  return status === 0 || (status > 0 && isRetryableStatus(status));
}

function classifyPartFailure(error: unknown): RetryVerdict {
  // Altered on the way: the next attempt has the store check the bytes.
  if (error instanceof PartChecksumError) return {};
  // API errors reaching here come from upload-parts/, which did its own retries.
  if (!(error instanceof PartUploadError && error.code === 'part')) return 'fatal';
  // The bytes that arrived do not match the part's checksum: corrupted on the
  // way, so sending them again may well work. (If the file itself changed
  // since it was hashed, every retry fails the same way and the error stands.)
  return isTransient(error) || error.storeCode === 'BadDigest' ? {} : 'fatal';
}
