/** One part `PUT` to the object store. */
export interface PartPutRequest {
  /** The presigned URL. */
  readonly url: string;
  /** Exactly the part's bytes: Content-Length is signed into the URL. */
  readonly body: Blob;
  /** Headers the server signed into the URL, to send unchanged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** Called with how many bytes of `body` were sent so far. */
  readonly onProgress: (sentBytes: number) => void;
  /**
   * For a transport that {@link PartTransport.passesBytes}: called with every
   * piece of `body` it sends, in order, so that the client hashes the part
   * without reading it again. The piece is valid only during the call: its
   * buffer may be reused.
   */
  readonly onBytes?: ((piece: Uint8Array) => void) | undefined;
}

export interface PartPutResponse {
  readonly status: number;
  /** The `ETag` response header; `null` when absent or hidden by CORS. */
  readonly etag: string | null;
  /** The response body: the store explains its errors in XML. */
  readonly body: string;
}

/**
 * Sends parts to the object store. Resolves with whatever HTTP answer came
 * (retries are the caller's business); rejects when no answer came (network
 * failure) or `signal` aborted.
 */
export interface PartTransport {
  put(request: PartPutRequest): Promise<PartPutResponse>;
  /**
   * Whether `onProgress` follows the bytes as they go out. Only then can a
   * stalled part be told from a slow one, so only then does the client's
   * `stallTimeoutMs` apply. Default: false.
   */
  readonly reportsProgress?: boolean;
  /** Whether `put` hands every byte it sends to the request's `onBytes`. Default: false. */
  readonly passesBytes?: boolean;
}
