import { type HeadersSource, UploadApi } from './api.js';
import type { AdaptiveConcurrency } from './concurrency.js';
import { type CsrfOptions, resolveCsrfOptions } from './csrf.js';
import { clientDefaults } from './defaults.js';
import { S3FileFieldError } from './errors.js';
import { ServerTraits } from './integrity.js';
import type { ProgressListener } from './progress.js';
import type { FinalizedUpload } from './protocol.js';
import { RequestQueue } from './queue.js';
import { defaultResumeStore, type ResumeStore, type UnfinishedUpload } from './resume.js';
import { type RetryInfo, sleep } from './retry.js';
import { runtimeDefaults } from './runtime.js';
import type { PartTransport } from './transport/types.js';
import { runUpload, type UploadEngine } from './upload.js';

export interface S3FileFieldClientOptions {
  /** Where `s3_file_field.urls` is mounted, e.g. `/api/s3-upload/`; absolute in Node. */
  readonly baseUrl: string;
  /**
   * Parts sent at once, over all the uploads of this client; default
   * `defaultConcurrency` (6), `defaultNodeConcurrency` (8) in Node, or the
   * `queue`'s limit.
   */
  readonly concurrency?: number | undefined;
  /**
   * Of `concurrency`, use only as many parts at once as make the upload faster: begin with 2
   * and double while that helps (a link that caps each connection), stay low where more would
   * only load the store. On by default (`clientDefaults.adaptiveConcurrency`); `false` sends
   * `concurrency` parts at once from the start. For this client's own queue, not a given `queue`.
   */
  readonly adaptiveConcurrency?: AdaptiveConcurrency | boolean | undefined;
  /**
   * A bound on part PUTs in flight to share with other clients (the widget
   * shares one among the file fields of a page); default: one of this client's own.
   */
  readonly queue?: RequestQueue | undefined;
  /** Retries of each request after a network error, 5xx or 429; default 5 (see `clientDefaults`). */
  readonly retries?: number | undefined;
  /** Backoff: the first wait is up to `baseMs` (default 1000), doubling, capped at `maxMs` (default 30000). */
  readonly retryDelay?: { readonly baseMs?: number | undefined; readonly maxMs?: number | undefined } | undefined;
  /** Told before each retry's wait. */
  readonly onRetry?: ((info: RetryInfo) => void) | undefined;
  /** Extra headers for the API calls (not for the store), or a function giving them before each call. */
  readonly headers?: HeadersSource | undefined;
  /** `credentials` of the API calls; default `same-origin` (Django's session cookie). */
  readonly credentials?: RequestCredentials | undefined;
  /** Sending Django's CSRF cookie back as a header; on by default, `false` to turn off. */
  readonly csrf?: CsrfOptions | false | undefined;
  /**
   * The fetch for API calls (e.g. one that adds authentication); default: the
   * global one, but node:http in Node.
   */
  readonly fetch?: typeof fetch | undefined;
  /** How parts reach the store; default XHR in browsers, node:http in Node, fetch elsewhere. */
  readonly transport?: PartTransport | undefined;
  /**
   * Remember unfinished uploads so that uploading the same file again sends only
   * the missing parts. `true`: in localStorage where there is one, in memory
   * otherwise; or a store of your own. Default: off.
   */
  readonly resume?: boolean | ResumeStore | undefined;
  /** Least time between two byte-progress reports; default 100 ms. */
  readonly progressIntervalMs?: number | undefined;
  /**
   * Make sure each part is stored as it was read. Each part is hashed (MD5)
   * while it is sent and compared with the ETag the store answers; a part
   * altered on the way is sent again, signed for its `Content-MD5` so that the
   * store checks it. Where the server requires it (`S3FF_REQUIRE_CHECKSUMS`),
   * or the store's ETags are not MD5s (encrypted buckets), every part is hashed
   * first and signed for its `Content-MD5`. Costs a second read of the file
   * and the hashing, not the time of either. Default: true.
   */
  readonly checksums?: boolean | undefined;
  /**
   * A part that moves no byte for this long is given up and sent again, so a
   * connection that hangs without failing does not hold the upload. 0: wait
   * forever. Default: 30 000 ms.
   */
  readonly stallTimeoutMs?: number | undefined;
}

export interface UploadOptions {
  readonly onProgress?: ProgressListener | undefined;
  /** Aborting stops every request in flight and aborts the upload on the server. */
  readonly signal?: AbortSignal | undefined;
  /** The name to give the server; required for a `Blob` that is not a `File`. */
  readonly fileName?: string | undefined;
  /** Default: the file's `type`; the server's default is `application/octet-stream`. */
  readonly contentType?: string | undefined;
}

function adaptiveRule(option: AdaptiveConcurrency | boolean | undefined): AdaptiveConcurrency | false {
  if (option === false) return false;
  return option === true || option === undefined ? clientDefaults.adaptiveConcurrency : option;
}

export class S3FileFieldClient {
  private readonly engine: UploadEngine;

  constructor(options: S3FileFieldClientOptions) {
    const defaults = runtimeDefaults();
    const concurrency = options.concurrency ?? options.queue?.limit ?? defaults.concurrency;
    const retries = options.retries ?? clientDefaults.retries;
    const stallTimeoutMs = options.stallTimeoutMs ?? clientDefaults.stallTimeoutMs;
    requireInteger('concurrency', concurrency, 1);
    requireInteger('retries', retries, 0);
    requireInteger('stallTimeoutMs', stallTimeoutMs, 0);
    if (typeof options.baseUrl !== 'string' || options.baseUrl === '') {
      throw new S3FileFieldError('invalid-input', 'baseUrl is required: where s3_file_field.urls is mounted');
    }
    const retry = {
      policy: {
        retries,
        baseDelayMs: options.retryDelay?.baseMs ?? clientDefaults.retryDelay.baseMs,
        maxDelayMs: options.retryDelay?.maxMs ?? clientDefaults.retryDelay.maxMs,
      },
      sleep,
      random: Math.random,
      onRetry: options.onRetry,
    };
    const resume = options.resume ?? clientDefaults.resume;
    this.engine = {
      api: new UploadApi({
        baseUrl: options.baseUrl,
        fetch: options.fetch ?? defaults.fetch,
        headers: options.headers,
        credentials: options.credentials ?? clientDefaults.credentials,
        csrf: resolveCsrfOptions(options.csrf),
        retry,
      }),
      apiBaseUrl: options.baseUrl,
      transport: options.transport ?? defaults.transport(concurrency),
      concurrency,
      queue: options.queue ?? new RequestQueue(concurrency, { adaptive: adaptiveRule(options.adaptiveConcurrency) }),
      retry,
      resumeStore: resume === true ? defaultResumeStore() : resume || undefined,
      progressIntervalMs: options.progressIntervalMs ?? clientDefaults.progressIntervalMs,
      now: () => performance.now(),
      checksums: options.checksums ?? clientDefaults.checksums,
      hashers: defaults.hashers,
      traits: new ServerTraits(),
      stallTimeoutMs,
    };
  }

  /**
   * Uploads `file` for the `S3FileField` named `fieldId` (`"app_label.Model.field"`)
   * and resolves to the value that field accepts in a form or serializer.
   * The third argument may also be a bare progress listener, as in the 1.x client.
   */
  async uploadFile(file: Blob, fieldId: string, options?: UploadOptions | ProgressListener): Promise<string> {
    return (await this.upload(file, fieldId, options)).fieldValue;
  }

  /** Like {@link uploadFile}, resolving to the whole finalize answer (`objectKey`, `fileSize` too). */
  async upload(file: Blob, fieldId: string, options?: UploadOptions | ProgressListener): Promise<FinalizedUpload> {
    const uploadOptions: UploadOptions = typeof options === 'function' ? { onProgress: options } : (options ?? {});
    if (typeof file?.slice !== 'function' || typeof file.size !== 'number') {
      throw new S3FileFieldError('invalid-input', 'file must be a File or a Blob');
    }
    if (typeof fieldId !== 'string' || fieldId === '') {
      throw new S3FileFieldError('invalid-input', 'fieldId is required: "<app_label>.<ModelName>.<field_name>"');
    }
    const fileName = uploadOptions.fileName ?? (file as Partial<File>).name;
    if (typeof fileName !== 'string' || fileName === '') {
      throw new S3FileFieldError('invalid-input', 'a Blob has no name: pass the fileName option');
    }
    const { lastModified } = file as Partial<File>;
    return runUpload(
      this.engine,
      {
        blob: file,
        fieldId,
        fileName,
        contentType: uploadOptions.contentType ?? (file.type || undefined),
        lastModified: typeof lastModified === 'number' ? lastModified : undefined,
      },
      { onProgress: uploadOptions.onProgress, signal: uploadOptions.signal },
    );
  }

  /**
   * Gives up an unfinished upload that is not to be resumed (one its resume store lists):
   * forgets it, and frees it on the server, which aborts it on the store.
   */
  async forget(unfinished: UnfinishedUpload): Promise<void> {
    await this.engine.resumeStore?.delete(unfinished.key);
    await this.engine.api.abort(unfinished.record.uploadSignature).catch(() => {});
  }
}

function requireInteger(name: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new S3FileFieldError('invalid-input', `${name} must be an integer ≥ ${minimum}, not ${value}`);
  }
}
