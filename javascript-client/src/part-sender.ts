import type { UploadApi } from './api.js';
import {
  ApiCallError,
  MissingEtagError,
  PartNetworkError,
  PartStalledError,
  PartUploadError,
  S3FileFieldError,
} from './errors.js';
import type { PartIntegrity } from './integrity.js';
import type { PartUrlBook } from './part-urls.js';
import type { PlannedPart } from './plan.js';
import type { ProgressTracker } from './progress.js';
import type { SignedPart } from './protocol.js';
import type { RequestQueue } from './queue.js';
import { isTransient, type RetryRuntime, type RetryVerdict, withRetries } from './retry.js';
import type { UploadSession } from './session.js';
import { StallGuard } from './stall.js';
import { readStoreError } from './store-error.js';
import type { PartPutResponse, PartTransport } from './transport/types.js';

export interface PartSenderContext {
  readonly api: UploadApi;
  readonly blob: Blob;
  readonly session: UploadSession;
  readonly urls: PartUrlBook;
  readonly integrity: PartIntegrity;
  readonly transport: PartTransport;
  readonly queue: RequestQueue;
  readonly progress: ProgressTracker;
  readonly retry: RetryRuntime;
  readonly stallTimeoutMs: number;
}

/** Sends the parts of one upload, each with its retries, and gives their ETags. */
export class PartSender {
  constructor(private readonly context: PartSenderContext) {}

  /** Sends a part until it is stored (or the retries are spent) and gives its ETag. */
  send(part: PlannedPart): Promise<string> {
    return withRetries(`part ${part.partNumber}`, this.context.retry, () => this.attempt(part), classifyPartFailure);
  }

  /** One attempt at a part; gives its ETag. */
  private async attempt(part: PlannedPart): Promise<string> {
    const { integrity, urls } = this.context;
    const { partNumber } = part;
    if (integrity.storeChecks(partNumber)) return this.attemptCheckedByStore(part);
    const response = await this.putSigned(
      part,
      (again) => (again ? urls.resign(partNumber) : urls.get(partNumber)),
      true,
    );
    const etag = storedEtag(part, response);
    await integrity.judge(part, etag, response.status);
    return etag;
  }

  /**
   * One attempt at a part signed for its Content-MD5, so that the store checks
   * the bytes: after its ETag did not match, or for a store whose ETags are not MD5s.
   */
  private async attemptCheckedByStore(part: PlannedPart): Promise<string> {
    const { api, session, integrity, retry } = this.context;
    const { partNumber, size } = part;
    const md5 = await integrity.md5Of(part);
    const sign = async () => {
      const [signed] = await api.signParts(session.signature, [partNumber], retry.signal, new Map([[partNumber, md5]]));
      if (signed?.partNumber !== partNumber || signed.size !== size) {
        throw new S3FileFieldError('protocol', `upload-parts/ did not sign part ${partNumber} for ${size} bytes`);
      }
      return signed;
    };
    const etag = storedEtag(part, await this.putSigned(part, sign, false));
    integrity.judgeStoreChecked(etag, md5);
    return etag;
  }

  /**
   * One PUT of a part with a URL from `sign`. A URL the store refuses (403) has
   * most often expired (a long upload, a resumed one): it is signed again, and
   * if a fresh URL is refused too, the refusal is real and is reported.
   */
  private async putSigned(
    part: PlannedPart,
    sign: (again: boolean) => Promise<SignedPart>,
    judgedByEtag: boolean,
  ): Promise<PartPutResponse> {
    const { multipart } = this.context.session;
    const attempt = async (again: boolean): Promise<PartPutResponse | undefined> => {
      let signed: SignedPart;
      try {
        signed = await sign(again);
      } catch (error) {
        // upload-parts/ signs nothing for a single PUT whose file is stored (409).
        if (!multipart && error instanceof ApiCallError && error.status === 409) return undefined;
        throw error;
      }
      return this.context.queue.run(() => this.put(part, signed, judgedByEtag), this.context.retry.signal);
    };
    const first = await attempt(false);
    const response = first?.status === 403 ? await attempt(true) : first;
    if (multipart) return response as PartPutResponse;
    if (response === undefined) return this.storedEarlier(part, { status: 409, etag: null, body: '' });
    return response.status === 412 ? this.storedEarlier(part, response) : response;
  }

  /**
   * A single PUT writes only where no object is (it is signed for `If-None-Match: *`),
   * and the key is this upload's alone: a 412 (or upload-parts/ refusing to sign, 409)
   * means an earlier attempt was stored and its answer lost. The object the store
   * holds stands for this attempt when it has the part's size and, where the store's
   * ETags are MD5s, the part's MD5; bytes stored altered cannot be replaced, so the
   * upload fails and is started again.
   */
  private async storedEarlier(part: PlannedPart, refused: PartPutResponse): Promise<PartPutResponse> {
    const { api, session, integrity, retry } = this.context;
    const [stored] = await api.status(session.signature, retry.signal);
    if (stored?.partNumber !== part.partNumber || stored.size !== part.size) return refused;
    if (!(await integrity.storedAsSent(part, stored.etag))) {
      throw new PartUploadError({
        partNumber: part.partNumber,
        status: refused.status,
        message: `part ${part.partNumber} was stored altered by an attempt whose answer was lost, and a stored file cannot be replaced: upload it again`,
      });
    }
    return { status: 200, etag: stored.etag, body: '' };
  }

  /** One PUT of a part, hashing it on the way when it is to be judged by its ETag. */
  private async put(part: PlannedPart, signed: SignedPart, judgedByEtag: boolean): Promise<PartPutResponse> {
    const { blob, session, integrity, transport, queue, progress, retry, stallTimeoutMs } = this.context;
    const { partNumber, offset, size } = part;
    const hasher = judgedByEtag ? await integrity.hasherWhileSending(part) : undefined;
    const attempt = new StallGuard(retry.signal, transport.reportsProgress ? stallTimeoutMs : 0);
    progress.partSending(partNumber, 0);
    let reported = 0;
    try {
      const response = await transport.put({
        url: signed.uploadUrl,
        // A slice, so only this part is ever read; and without a type, so no
        // Content-Type goes out beyond the signed part headers.
        body: blob.slice(offset, offset + size),
        headers: { ...session.partHeaders, ...signed.headers },
        signal: attempt.signal,
        onProgress: (sentBytes) => {
          attempt.progressed();
          const sent = Math.min(sentBytes, size);
          progress.partSending(partNumber, sent);
          queue.sent(sent - reported);
          reported = sent;
        },
        onBytes: hasher && ((piece) => hasher.update(piece)),
      });
      if (hasher && response.status >= 200 && response.status < 300) integrity.hashedWhileSending(partNumber, hasher);
      return response;
    } catch (error) {
      if (retry.signal.aborted) throw error;
      throw attempt.stalled
        ? new PartStalledError(partNumber, stallTimeoutMs, error)
        : new PartNetworkError(partNumber, error);
    } finally {
      attempt.release();
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

function classifyPartFailure(error: unknown): RetryVerdict {
  // Altered on the way (PartChecksumError, a store's BadDigest): sending the
  // bytes again may well work, and the next attempt has the store check them.
  // (If the file itself changed since it was hashed, every retry fails the
  // same way and the error stands.) API errors reaching here come from
  // upload-parts/, which did its own retries.
  if (error instanceof PartUploadError && (error.code === 'checksum' || error.storeCode === 'BadDigest')) return {};
  return error instanceof PartNetworkError || (error instanceof PartUploadError && isTransient(error)) ? {} : 'fatal';
}
