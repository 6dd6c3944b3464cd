import { type ApiEndpoint, S3FileFieldError } from './errors.js';

/** A part the server signed: where to `PUT` it and how many bytes it must hold. */
export interface SignedPart {
  readonly partNumber: number;
  readonly size: number;
  readonly uploadUrl: string;
  /** Headers signed into this part's URL alone (its `Content-MD5`), to send unchanged. */
  readonly headers: Readonly<Record<string, string>>;
}

/** A part the store already holds, as `upload-status/` reports it. */
export interface StoredPart {
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
}

export interface PreparedUpload {
  readonly uploadSignature: string;
  readonly objectKey: string;
  /** `null` for a single-part upload (one `PUT`, no S3 multipart upload). */
  readonly uploadId: string | null;
  readonly partSize: number;
  readonly partCount: number;
  /** Possibly only the first batch; the rest come from `upload-parts/`. */
  readonly parts: readonly SignedPart[];
  /** Sent unchanged with every part `PUT`. */
  readonly partHeaders: Readonly<Record<string, string>>;
  /**
   * The checksum algorithm every part URL is signed for, as the server picked
   * it from those the client named; `null`: none (a server without the
   * extension leaves it out).
   */
  readonly checksum: string | null;
  /** The most part URLs one `upload-parts/` call may ask for (older servers: 100). */
  readonly maxPartUrls: number;
}

export interface FinalizedUpload {
  /** The signed value a form or serializer field accepts. */
  readonly fieldValue: string;
  readonly objectKey: string;
  readonly fileSize: number;
  /**
   * The checksum the store computed of the whole object, where the upload had
   * an algorithm the store keeps (`type`: `FULL_OBJECT` or `COMPOSITE`); `null` otherwise.
   */
  readonly checksum: ObjectChecksum | null;
}

export interface ObjectChecksum {
  readonly algorithm: string;
  /** Base64 of the digest, as S3's `x-amz-checksum-*` headers carry it. */
  readonly value: string;
  readonly type: string;
}

/**
 * Checks the shape of a JSON answer while turning it into the client's own types,
 * so a misrouted `baseUrl` or an incompatible server fails with a clear message
 * instead of an `undefined` deep inside the upload.
 */
class BodyReader {
  constructor(
    private readonly endpoint: ApiEndpoint,
    private readonly path: string,
    private readonly value: unknown,
  ) {}

  static of(endpoint: ApiEndpoint, body: unknown): BodyReader {
    return new BodyReader(endpoint, 'the body', body);
  }

  private fail(expected: string): never {
    throw new S3FileFieldError(
      'protocol',
      `${this.endpoint} answered an unexpected body: ${this.path} should be ${expected}`,
    );
  }

  private object(): Record<string, unknown> {
    const { value } = this;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail('an object');
    return value as Record<string, unknown>;
  }

  get(key: string): BodyReader {
    return new BodyReader(this.endpoint, `${this.path}.${key}`, this.object()[key]);
  }

  /** This value, or `undefined` when it is absent or null. */
  optional(): BodyReader | undefined {
    return this.value === undefined || this.value === null ? undefined : this;
  }

  string(): string {
    return typeof this.value === 'string' ? this.value : this.fail('a string');
  }

  stringOrNull(): string | null {
    return this.value === null ? null : this.string();
  }

  count(): number {
    const { value } = this;
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : this.fail('an integer ≥ 0');
  }

  list(): BodyReader[] {
    const { value } = this;
    if (!Array.isArray(value)) this.fail('a list');
    return (value as unknown[]).map((item, index) => new BodyReader(this.endpoint, `${this.path}[${index}]`, item));
  }

  stringMap(): Record<string, string> {
    const entries = Object.entries(this.object());
    if (!entries.every(([, v]) => typeof v === 'string')) this.fail('an object of strings');
    return Object.fromEntries(entries) as Record<string, string>;
  }
}

function readSignedPart(part: BodyReader): SignedPart {
  return {
    partNumber: part.get('part_number').count(),
    size: part.get('size').count(),
    uploadUrl: part.get('upload_url').string(),
    headers: part.get('headers').optional()?.stringMap() ?? {},
  };
}

/** What `upload-parts/` signs at most per call, where the server does not say (before `max_part_urls`). */
export const defaultMaxPartUrls = 100;

export function readPrepareResponse(body: unknown): PreparedUpload {
  const reader = BodyReader.of('upload-prepare/', body);
  return {
    uploadSignature: reader.get('upload_signature').string(),
    objectKey: reader.get('object_key').string(),
    uploadId: reader.get('upload_id').stringOrNull(),
    partSize: reader.get('part_size').count(),
    partCount: reader.get('part_count').count(),
    parts: reader.get('parts').list().map(readSignedPart),
    partHeaders: reader.get('part_headers').stringMap(),
    checksum: reader.get('checksum').optional()?.string() ?? null,
    maxPartUrls: reader.get('max_part_urls').optional()?.count() ?? defaultMaxPartUrls,
  };
}

export function readPartsResponse(body: unknown): SignedPart[] {
  return BodyReader.of('upload-parts/', body).get('parts').list().map(readSignedPart);
}

export function readStatusResponse(body: unknown): StoredPart[] {
  return BodyReader.of('upload-status/', body)
    .get('parts')
    .list()
    .map((part) => ({
      partNumber: part.get('part_number').count(),
      size: part.get('size').count(),
      etag: part.get('etag').string(),
    }));
}

export function readFinalizeResponse(body: unknown): FinalizedUpload {
  const reader = BodyReader.of('upload-finalize/', body);
  return {
    fieldValue: reader.get('field_value').string(),
    objectKey: reader.get('object_key').string(),
    fileSize: reader.get('file_size').count(),
    checksum: readObjectChecksum(reader.get('checksum').optional()),
  };
}

function readObjectChecksum(reader: BodyReader | undefined): ObjectChecksum | null {
  if (reader === undefined) return null;
  return {
    algorithm: reader.get('algorithm').string(),
    value: reader.get('value').string(),
    type: reader.get('type').string(),
  };
}
