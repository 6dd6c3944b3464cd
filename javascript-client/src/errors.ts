/** What kind of step failed; stable strings a caller can switch on. */
export type S3FileFieldErrorCode =
  /** The caller passed something unusable (no file name, bad option). */
  | 'invalid-input'
  /** A call to the Django API failed (see {@link ApiCallError}). */
  | 'api'
  /** A part `PUT` to the object store failed (see {@link PartUploadError}). */
  | 'part'
  /** No answer came: the network failed or the request stalled (see {@link ApiNetworkError}, {@link PartNetworkError}). */
  | 'network'
  /** A part was stored but its `ETag` could not be read (see {@link MissingEtagError}). */
  | 'missing-etag'
  /** A part was stored altered: its `ETag` is not the MD5 of the bytes sent (see {@link PartChecksumError}). */
  | 'checksum'
  /** The server answered something this client does not understand. */
  | 'protocol'
  /** The caller aborted the upload (see {@link UploadAbortedError}). */
  | 'aborted';

/** Base class of every error this library throws. */
export class S3FileFieldError extends Error {
  readonly code: S3FileFieldErrorCode;

  constructor(code: S3FileFieldErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'S3FileFieldError';
    this.code = code;
  }
}

export type ApiEndpoint = 'upload-prepare/' | 'upload-parts/' | 'upload-status/' | 'upload-finalize/' | 'upload-abort/';

/** A call to the Django API was answered with a 4xx or 5xx. */
export class ApiCallError extends S3FileFieldError {
  readonly endpoint: ApiEndpoint;
  /** HTTP status of the answer. */
  readonly status: number;
  /** The server's message (DRF `detail`, or field errors joined), or a description of the failure. */
  readonly detail: string;
  /** DRF field errors (`{"field": ["msg"]}`) when the server sent them. */
  readonly fieldErrors: Readonly<Record<string, readonly string[]>> | undefined;
  /** The server's `Retry-After`, in milliseconds, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    endpoint: ApiEndpoint;
    status: number;
    detail: string;
    fieldErrors?: Record<string, string[]> | undefined;
    retryAfterMs?: number | undefined;
    cause?: unknown;
  }) {
    super('api', `${init.endpoint} failed (HTTP ${init.status}): ${init.detail}`, { cause: init.cause });
    this.name = 'ApiCallError';
    this.endpoint = init.endpoint;
    this.status = init.status;
    this.detail = init.detail;
    this.fieldErrors = init.fieldErrors;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** A call to the Django API got no answer: the network failed on the way. */
export class ApiNetworkError extends S3FileFieldError {
  readonly endpoint: ApiEndpoint;

  constructor(endpoint: ApiEndpoint, cause: unknown) {
    super('network', `${endpoint} failed: no response (${describeCause(cause)})`, { cause });
    this.name = 'ApiNetworkError';
    this.endpoint = endpoint;
  }
}

/** A part `PUT` got no answer from the store: the network failed on the way. */
export class PartNetworkError extends S3FileFieldError {
  readonly partNumber: number;

  constructor(partNumber: number, cause: unknown, reason = `no response (${describeCause(cause)})`) {
    super('network', `upload of part ${partNumber} failed: ${reason}`, { cause });
    this.name = 'PartNetworkError';
    this.partNumber = partNumber;
  }
}

/** A part `PUT` moved no byte for the client's `stallTimeoutMs`, and was given up. */
export class PartStalledError extends PartNetworkError {
  readonly stallTimeoutMs: number;

  constructor(partNumber: number, stallTimeoutMs: number, cause: unknown) {
    super(partNumber, cause, `stalled, nothing moved for ${stallTimeoutMs / 1000} s`);
    this.name = 'PartStalledError';
    this.stallTimeoutMs = stallTimeoutMs;
  }
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** A part `PUT` was answered by the store with something other than success. */
export class PartUploadError extends S3FileFieldError {
  readonly partNumber: number;
  /** HTTP status of the store's answer. */
  readonly status: number;
  /** The store's `<Code>` (e.g. `AccessDenied`, `SlowDown`), when its answer had one. */
  readonly storeCode: string | undefined;
  /** The store's `<Message>`, when its answer had one. */
  readonly storeMessage: string | undefined;

  constructor(init: {
    partNumber: number;
    status: number;
    storeCode?: string | undefined;
    storeMessage?: string | undefined;
    message?: string;
    code?: 'part' | 'missing-etag' | 'checksum';
    cause?: unknown;
  }) {
    super(init.code ?? 'part', init.message ?? describePartFailure(init), { cause: init.cause });
    this.name = 'PartUploadError';
    this.partNumber = init.partNumber;
    this.status = init.status;
    this.storeCode = init.storeCode;
    this.storeMessage = init.storeMessage;
  }
}

function describePartFailure(init: {
  partNumber: number;
  status: number;
  storeCode?: string | undefined;
  storeMessage?: string | undefined;
}): string {
  const storeSaid = [init.storeCode, init.storeMessage].filter(Boolean).join(': ');
  return `upload of part ${init.partNumber} failed: HTTP ${init.status}${storeSaid ? `, ${storeSaid}` : ''}`;
}

/**
 * The store accepted a part but its `ETag` response header was not readable.
 * In a browser this means the bucket's CORS rules do not expose the header,
 * and the upload cannot be completed without it.
 */
export class MissingEtagError extends PartUploadError {
  constructor(partNumber: number, status: number) {
    super({
      partNumber,
      status,
      code: 'missing-etag',
      message:
        `part ${partNumber} was stored (HTTP ${status}) but its ETag response header is not readable: ` +
        'the bucket CORS configuration must expose it (Access-Control-Expose-Headers: ETag)',
    });
    this.name = 'MissingEtagError';
  }
}

/**
 * The store took a part, but the `ETag` it gave is not the MD5 of the bytes
 * sent: they were altered on the way. The client sends the part again, signed
 * for its `Content-MD5` so that the store checks it; this error reaches the
 * caller only when no retry is left.
 */
export class PartChecksumError extends PartUploadError {
  /** The store's ETag, as it came. */
  readonly etag: string;
  /** The base64 MD5 of the part's bytes, as `Content-MD5` has it. */
  readonly contentMd5: string;

  constructor(partNumber: number, status: number, etag: string, contentMd5: string) {
    super({
      partNumber,
      status,
      code: 'checksum',
      message: `part ${partNumber} arrived altered: the store's ETag ${etag} is not the MD5 of the bytes sent (${contentMd5}, base64)`,
    });
    this.name = 'PartChecksumError';
    this.etag = etag;
    this.contentMd5 = contentMd5;
  }
}

/**
 * The caller aborted the upload through its `AbortSignal`.
 * Named `AbortError`, like the DOM's, so generic abort checks recognise it.
 */
export class UploadAbortedError extends S3FileFieldError {
  constructor(reason: unknown) {
    super('aborted', 'the upload was aborted', { cause: reason });
    this.name = 'AbortError';
  }
}
