import type { UploadApi } from './api.js';
import type { Hashers, PartChecksums } from './checksums.js';
import { UploadAbortedError } from './errors.js';
import { PartIntegrity, type ServerTraits } from './integrity.js';
import { PartSender } from './part-sender.js';
import { PartUrlBook } from './part-urls.js';
import { runBounded } from './pool.js';
import { type ProgressListener, ProgressTracker } from './progress.js';
import type { FinalizedUpload } from './protocol.js';
import type { RequestQueue } from './queue.js';
import { ResumeSlot, type ResumeStore, resumeKey } from './resume.js';
import { isTransient, type RetryRuntime } from './retry.js';
import { openSession, type UploadInput, type UploadSession } from './session.js';
import type { PartTransport } from './transport/types.js';

export type { UploadInput } from './session.js';

/** Everything an upload needs that outlives it (the client's configuration). */
export interface UploadEngine {
  readonly api: UploadApi;
  readonly apiBaseUrl: string;
  readonly transport: PartTransport;
  /** Parts of one upload sent at once. */
  readonly concurrency: number;
  /** The bound on part PUTs in flight over every upload that shares it. */
  readonly queue: RequestQueue;
  readonly retry: Omit<RetryRuntime, 'signal'>;
  readonly resumeStore: ResumeStore | undefined;
  readonly progressIntervalMs: number;
  readonly now: () => number;
  /** Whether to make sure each part is stored as it was read (see {@link PartIntegrity}). */
  readonly checksums: boolean;
  /** Hash parts read from the file, or, through a transport that passes its bytes, as they go. */
  readonly hashers: Hashers;
  /** What earlier uploads found out about the server and its stores. */
  readonly traits: ServerTraits;
  /** A part attempt without progress for this long fails and is retried; 0: never. */
  readonly stallTimeoutMs: number;
}

export interface UploadControls {
  readonly onProgress: ProgressListener | undefined;
  readonly signal: AbortSignal | undefined;
}

export function runUpload(
  engine: UploadEngine,
  input: UploadInput,
  controls: UploadControls,
): Promise<FinalizedUpload> {
  return new UploadRun(engine, input, controls).run();
}

/**
 * One file's upload, as a sequence of states: preparing (a new session, or a
 * resumed one), uploading (the parts), finalizing, then done; or, from any of
 * them, aborted (by the caller) or error (with the upload freed on the server,
 * unless a transient failure leaves it to resume).
 */
class UploadRun {
  /** Aborted by the caller's signal, or by the first failed part to stop the others. */
  private readonly controller = new AbortController();
  private readonly signal = this.controller.signal;
  private readonly progress: ProgressTracker;
  private readonly resume: ResumeSlot;
  private session: UploadSession | undefined;
  /** The checksum each part's URL was signed for, told to finalize (S3 checks them again). */
  private partChecksums: PartChecksums | undefined;

  constructor(
    private readonly engine: UploadEngine,
    private readonly input: UploadInput,
    private readonly controls: UploadControls,
  ) {
    this.progress = new ProgressTracker(input.blob.size, controls.onProgress, {
      intervalMs: engine.progressIntervalMs,
      now: engine.now,
    });
    this.resume = new ResumeSlot(
      engine.resumeStore,
      resumeKey({
        apiBaseUrl: engine.apiBaseUrl,
        fieldId: input.fieldId,
        fileName: input.fileName,
        fileSize: input.blob.size,
        lastModified: input.lastModified,
        contentType: input.contentType,
      }),
    );
  }

  async run(): Promise<FinalizedUpload> {
    const callerSignal = this.controls.signal;
    const stopOnCallerAbort = () => this.controller.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', stopOnCallerAbort, { once: true });
    try {
      this.progress.setState('preparing');
      if (callerSignal?.aborted) stopOnCallerAbort();
      this.signal.throwIfAborted();
      const session = await this.open();
      await this.sendParts(session);
      this.progress.setState('finalizing');
      const result = await this.finalize(session);
      this.progress.setState('done');
      return result;
    } catch (error) {
      throw await this.fail(error);
    } finally {
      callerSignal?.removeEventListener('abort', stopOnCallerAbort);
    }
  }

  private async open(): Promise<UploadSession> {
    const { engine, input } = this;
    this.session = await openSession({
      api: engine.api,
      input,
      checksums: engine.checksums,
      hashers: engine.hashers,
      traits: engine.traits,
      resume: this.resume,
      signal: this.signal,
    });
    return this.session;
  }

  private async sendParts(session: UploadSession): Promise<void> {
    const { engine, input, signal } = this;
    const integrity = new PartIntegrity({
      mode: session.integrity,
      algorithm: session.checksumAlgorithm,
      blob: input.blob,
      fieldId: input.fieldId,
      traits: engine.traits,
      hashers: engine.hashers,
      passesBytes: engine.transport.passesBytes === true,
      concurrency: engine.concurrency,
      signal,
    });
    await integrity.checkStored(session.parts, session.etags);
    this.progress.setPartCount(session.parts.length);
    for (const part of session.parts) {
      if (session.etags.has(part.partNumber)) this.progress.partAlreadyStored(part.size);
    }
    this.progress.setState('uploading');
    const pending = session.parts.filter((part) => !session.etags.has(part.partNumber));
    if (pending.length === 0) return;
    const checksums = integrity.batchChecksums(pending);
    this.partChecksums = checksums;
    const urls = new PartUrlBook({
      sign: async (partNumbers) =>
        engine.api.signParts(session.signature, partNumbers, signal, await checksums?.of(partNumbers)),
      // A part joins a batch only once hashed: a batch waits for its slowest part.
      batchable: checksums && ((partNumber) => checksums.has(partNumber)),
      parts: pending,
      signed: session.signed,
      lookahead: 2 * engine.concurrency,
      maxPerCall: session.maxPartUrls,
    });
    const sender = new PartSender({
      api: engine.api,
      blob: input.blob,
      session,
      urls,
      integrity,
      transport: engine.transport,
      queue: engine.queue,
      progress: this.progress,
      retry: { ...engine.retry, signal },
      stallTimeoutMs: engine.stallTimeoutMs,
    });
    await runBounded(
      pending,
      engine.concurrency,
      async (part) => {
        session.etags.set(part.partNumber, await sender.send(part));
        urls.forget(part.partNumber);
        this.progress.partStored(part.partNumber, part.size);
        await this.rememberStored(session);
      },
      (error) => this.controller.abort(error),
    );
  }

  /**
   * Tells the resume store how far the upload got (what a page offering to resume shows),
   * and the CRC32 part 1 was signed for, which a file chosen again must have.
   */
  private async rememberStored(session: UploadSession): Promise<void> {
    if (!this.resume.enabled) return;
    const firstPartChecksum =
      session.integrity === 'signed' && session.checksumAlgorithm === 'crc32'
        ? (this.partChecksums?.known(1) ?? session.record.firstPartChecksum)
        : undefined;
    await this.resume.set({
      ...session.record,
      storedParts: session.etags.size,
      ...(firstPartChecksum === undefined ? {} : { firstPartChecksum }),
    });
  }

  private async finalize(session: UploadSession): Promise<FinalizedUpload> {
    // Only a CRC32's: an MD5 is checked as the bytes come and never kept.
    const told = session.integrity === 'signed' && session.checksumAlgorithm !== 'md5';
    const etags = session.multipart
      ? session.parts.map(({ partNumber }) => ({
          partNumber,
          etag: session.etags.get(partNumber) as string,
          checksum: told ? this.partChecksums?.known(partNumber) : undefined,
        }))
      : [];
    const result = await this.engine.api.finalize(session.signature, etags, this.signal);
    await this.resume.delete();
    return result;
  }

  /** Cleans up after a failure and gives the error to throw. */
  private async fail(error: unknown): Promise<unknown> {
    const { session } = this;
    if (this.controls.signal?.aborted) {
      if (session) this.abortOnServer(session);
      await this.resume.delete();
      this.progress.setState('aborted');
      return new UploadAbortedError(this.controls.signal.reason);
    }
    // A transient failure (network, overloaded store) of a resumable upload keeps
    // its parts for the next try; any other failure frees them.
    const keepForResume = this.resume.enabled && isTransient(error);
    if (session && !keepForResume) {
      this.abortOnServer(session);
      await this.resume.delete();
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
}
