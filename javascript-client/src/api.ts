import { type CsrfConfig, csrfHeaderFor } from './csrf.js';
import { ApiCallError, type ApiEndpoint, ApiNetworkError, S3FileFieldError } from './errors.js';
import {
  type FinalizedUpload,
  type PreparedUpload,
  readFinalizeResponse,
  readPartsResponse,
  readPrepareResponse,
  readStatusResponse,
  type SignedPart,
  type StoredPart,
} from './protocol.js';
import { isTransient, parseRetryAfter, type RetryRuntime, type RetryVerdict, withRetries } from './retry.js';

/** Static headers, or a function called before every API call (e.g. to refresh a token). */
export type HeadersSource = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

/** What an API call asks of fetch; a global `fetch` is one. */
export type ApiFetch = (url: string, init: ApiRequestInit) => Promise<ApiResponse>;

export interface ApiRequestInit {
  readonly method: 'POST';
  /** Names in lower case. */
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly credentials: RequestCredentials;
  readonly signal?: AbortSignal;
}

/** What an API call reads of fetch's `Response`. */
export interface ApiResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface ApiConfig {
  readonly baseUrl: string;
  readonly fetch: ApiFetch;
  readonly headers: HeadersSource | undefined;
  readonly credentials: RequestCredentials;
  readonly csrf: CsrfConfig | false;
  readonly retry: Omit<RetryRuntime, 'signal'>;
}

export interface PrepareRequest {
  readonly fieldId: string;
  readonly fileName: string;
  readonly fileSize: number;
  readonly contentType: string | undefined;
  /**
   * The checksum algorithms the client can compute, preferred first: the
   * server picks one its store verifies, and signs every part URL for it.
   */
  readonly checksumAlgorithms?: readonly string[] | undefined;
  /** Checksums (of the first of `checksumAlgorithms`) of parts hashed already: part 1 of a small file. */
  readonly checksums?: ReadonlyMap<number, string> | undefined;
}

/** The five endpoints of the upload protocol (see the project's http-api spec). */
export class UploadApi {
  private readonly baseUrl: string;

  constructor(private readonly config: ApiConfig) {
    this.baseUrl = config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`;
  }

  async prepare(request: PrepareRequest, signal: AbortSignal): Promise<PreparedUpload> {
    const body = {
      field_id: request.fieldId,
      file_name: request.fileName,
      file_size: request.fileSize,
      ...(request.contentType ? { content_type: request.contentType } : {}),
      ...(request.checksumAlgorithms ? { checksum_algorithms: request.checksumAlgorithms } : {}),
      ...(request.checksums?.size ? { part_checksums: partChecksums(request.checksums) } : {}),
    };
    return readPrepareResponse(await this.post('upload-prepare/', body, signal));
  }

  /** Signs these parts' URLs, each for its checksum (of the upload's algorithm, or an MD5) when `checksums` are given. */
  async signParts(
    uploadSignature: string,
    partNumbers: readonly number[],
    signal: AbortSignal,
    checksums?: ReadonlyMap<number, string>,
  ): Promise<SignedPart[]> {
    const body = {
      upload_signature: uploadSignature,
      part_numbers: partNumbers,
      ...(checksums ? { part_checksums: partChecksums(checksums) } : {}),
    };
    return readPartsResponse(await this.post('upload-parts/', body, signal));
  }

  async status(uploadSignature: string, signal: AbortSignal): Promise<StoredPart[]> {
    return readStatusResponse(await this.post('upload-status/', { upload_signature: uploadSignature }, signal));
  }

  async finalize(
    uploadSignature: string,
    parts: readonly { partNumber: number; etag: string; checksum?: string | undefined }[],
    signal: AbortSignal,
  ): Promise<FinalizedUpload> {
    const body = {
      upload_signature: uploadSignature,
      parts: parts.map(({ partNumber, etag, checksum }) => ({
        part_number: partNumber,
        etag,
        ...(checksum ? { checksum } : {}),
      })),
    };
    return readFinalizeResponse(await this.post('upload-finalize/', body, signal));
  }

  /** One attempt, no signal: it runs after the upload's own signal has aborted. */
  async abort(uploadSignature: string): Promise<void> {
    await this.postOnce('upload-abort/', { upload_signature: uploadSignature }, undefined);
  }

  private post(endpoint: ApiEndpoint, body: unknown, signal: AbortSignal): Promise<unknown> {
    return withRetries(
      endpoint,
      { ...this.config.retry, signal },
      () => this.postOnce(endpoint, body, signal),
      classifyApiFailure,
    );
  }

  private async postOnce(endpoint: ApiEndpoint, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const url = this.baseUrl + endpoint;
    const headers = await this.requestHeaders(url);
    // Called detached: a `window.fetch` passed in as is throws "Illegal invocation" as a method of another object.
    const { fetch } = this.config;
    let response: ApiResponse;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        credentials: this.config.credentials,
        ...(signal ? { signal } : {}),
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiNetworkError(endpoint, error);
    }
    const json = parseJson(text);
    if (response.ok) {
      if (response.status === 204) return undefined;
      if (json === notJson) {
        throw new S3FileFieldError(
          'protocol',
          `${endpoint} answered HTTP ${response.status} with a body that is not JSON: is baseUrl (${this.baseUrl}) right?`,
        );
      }
      return json;
    }
    throw new ApiCallError({
      endpoint,
      status: response.status,
      ...describeErrorBody(json, response),
      retryAfterMs: parseRetryAfter(response.headers.get('Retry-After'), Date.now()),
    });
  }

  private async requestHeaders(url: string): Promise<Record<string, string>> {
    const source = this.config.headers;
    const headers = lowerCaseHeaders(typeof source === 'function' ? await source() : source);
    headers['content-type'] = 'application/json';
    headers.accept = 'application/json';
    const csrf = this.config.csrf && csrfHeaderFor(url, this.config.csrf);
    if (csrf && !(csrf[0].toLowerCase() in headers)) headers[csrf[0].toLowerCase()] = csrf[1];
    return headers;
  }
}

/**
 * Any form of `HeadersInit` as a plain object. Not with `new Headers()`: in
 * Node, that alone loads undici (some 9 MiB), which the default there avoids.
 */
function lowerCaseHeaders(init: HeadersInit | undefined): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  const add = (value: string, name: string) => {
    headers[name.toLowerCase()] = value;
  };
  if (init === undefined) return headers;
  if (Array.isArray(init)) {
    for (const [name, value] of init) add(value, name);
  } else if (typeof (init as Headers).forEach === 'function') {
    (init as Headers).forEach(add);
  } else {
    for (const [name, value] of Object.entries(init)) add(value, name);
  }
  return headers;
}

function partChecksums(checksums: ReadonlyMap<number, string>): { part_number: number; checksum: string }[] {
  return [...checksums].map(([partNumber, checksum]) => ({ part_number: partNumber, checksum }));
}

function classifyApiFailure(error: unknown): RetryVerdict {
  if (!isTransient(error)) return 'fatal';
  return { retryAfterMs: error instanceof ApiCallError ? error.retryAfterMs : undefined };
}

const notJson = Symbol('not JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return notJson;
  }
}

/**
 * The message of a DRF error body: `{"detail": "..."}`, field errors
 * (`{"field": ["msg"]}`, possibly nested), or a bare list of messages.
 * A body that is none of these (an HTML page from a proxy) gives the status text.
 */
function describeErrorBody(
  json: unknown,
  response: ApiResponse,
): { detail: string; fieldErrors?: Record<string, string[]> } {
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    const { detail } = json as { detail?: unknown };
    if (typeof detail === 'string') return { detail };
  }
  const fieldErrors: Record<string, string[]> = {};
  const topLevelMessages = typeof json === 'string' || Array.isArray(json);
  collectMessages(topLevelMessages ? { non_field_errors: json } : json, '', fieldErrors);
  const entries = Object.entries(fieldErrors);
  if (entries.length === 0) {
    return { detail: response.statusText || 'the server sent no readable error message' };
  }
  const detail = entries
    .map(([field, messages]) => (field === 'non_field_errors' ? messages.join(' ') : `${field}: ${messages.join(' ')}`))
    .join('; ');
  return { detail, fieldErrors };
}

function collectMessages(value: unknown, path: string, into: Record<string, string[]>): void {
  if (typeof value === 'string') {
    into[path] = [...(into[path] ?? []), value];
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      collectMessages(item, typeof item === 'string' ? path : `${path}[${index}]`, into);
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) collectMessages(item, path ? `${path}.${key}` : key, into);
  }
}
