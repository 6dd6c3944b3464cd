/**
 * A fake Django API (the five endpoints, as a `fetch`) and a fake object store
 * (as a part transport) that check what the client sends, with faults to
 * inject into either side.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { PartPutRequest, PartPutResponse, PartTransport } from '../../src/index.js';

export const apiBaseUrl = 'http://django.test/api/s3-upload/';
export const knownFieldId = 'app.Model.file';

export type ApiFault = 'network' | 'hang' | { status: number; body?: unknown; headers?: Record<string, string> };
/**
 * `corrupt`: one byte of the part is changed on the way to the store. `hang`:
 * nothing moves until the request is aborted. `crawl`: the body goes out a
 * tenth at a time, 10 ms apart.
 */
/** `lost`: the part is stored, and the answer lost on the way back. */
export type StoreFault =
  | 'network'
  | 'no-etag'
  | 'hang'
  | 'crawl'
  | 'corrupt'
  | 'lost'
  | { status: number; body?: string };

export interface FakeStackOptions {
  /** Files larger than this are multipart, split in parts of this size. */
  partSize?: number;
  /** Parts signed in the prepare answer; the rest come from upload-parts/. */
  firstBatch?: number;
  /** The most parts one upload-parts/ call may ask for; `null`: the answer does not say (an older server). */
  maxPartUrls?: number | null;
  /** Where the signed part URLs point. */
  storeOrigin?: string;
  /** Whether the API knows the checksum extension (signs URLs for checksums); default true. */
  checksumExtension?: boolean;
  /** The algorithms the store verifies, that the API offers; default `['crc32', 'md5']`. */
  checksumAlgorithms?: readonly string[];
  /** Whether the API refuses uploads without checksums, as with `S3FF_REQUIRE_CHECKSUMS`; default false. */
  requireChecksums?: boolean;
  /**
   * The store's ETags: `md5`, the hex MD5 of a part (S3, MinIO, SeaweedFS); or
   * `opaque`, unrelated to the bytes (an encrypted bucket). Default `md5`.
   */
  etags?: 'md5' | 'opaque';
}

interface FakeUpload {
  signature: string;
  objectKey: string;
  fileSize: number;
  multipart: boolean;
  partSize: number;
  partCount: number;
  partHeaders: Record<string, string>;
  /** The algorithm every part URL must be signed for a checksum of; null: none. */
  checksum: string | null;
  parts: Map<number, { bytes: Uint8Array; etag: string }>;
  aborted: boolean;
  /** URLs signed before this generation are expired. */
  validFromGeneration: number;
}

export interface ApiCall {
  endpoint: string;
  body: Record<string, unknown>;
  headers: Headers;
  credentials: RequestCredentials | undefined;
}

export interface PartPut {
  /** The upload's signature. */
  signature: string;
  partNumber: number;
  size: number;
  headers: Record<string, string>;
}

export class FakeStack {
  readonly apiCalls: ApiCall[] = [];
  readonly partPuts: PartPut[] = [];
  readonly uploads = new Map<string, FakeUpload>();
  inFlight = 0;
  maxInFlight = 0;
  private generation = 0;
  private opaqueEtags = 0;
  private readonly apiFaults = new Map<string, ApiFault[]>();
  private readonly storeFaults = new Map<number, StoreFault[]>();
  private readonly partSize: number;
  private readonly firstBatch: number;
  private readonly maxPartUrls: number | null;
  private readonly storeOrigin: string;
  private readonly checksumExtension: boolean;
  private readonly checksumAlgorithms: readonly string[];
  private readonly requireChecksums: boolean;
  private readonly etags: 'md5' | 'opaque';

  constructor(options: FakeStackOptions = {}) {
    this.partSize = options.partSize ?? 10;
    this.firstBatch = options.firstBatch ?? 16;
    this.maxPartUrls = options.maxPartUrls === undefined ? 100 : options.maxPartUrls;
    this.storeOrigin = options.storeOrigin ?? 'https://store.test';
    this.checksumExtension = options.checksumExtension ?? true;
    this.checksumAlgorithms = options.checksumAlgorithms ?? ['crc32', 'md5'];
    this.requireChecksums = options.requireChecksums ?? false;
    this.etags = options.etags ?? 'md5';
  }

  /** The next calls to `endpoint` meet these faults, one each. */
  failApi(endpoint: string, ...faults: ApiFault[]): void {
    this.apiFaults.set(endpoint, [...(this.apiFaults.get(endpoint) ?? []), ...faults]);
  }

  /** The next PUTs of part `partNumber` meet these faults, one each. */
  failPart(partNumber: number, ...faults: StoreFault[]): void {
    this.storeFaults.set(partNumber, [...(this.storeFaults.get(partNumber) ?? []), ...faults]);
  }

  /** Every URL signed so far stops working, as after their expiry time. */
  expireUrls(): void {
    this.generation++;
    for (const upload of this.uploads.values()) upload.validFromGeneration = this.generation;
  }

  callsTo(endpoint: string): ApiCall[] {
    return this.apiCalls.filter((call) => call.endpoint === endpoint);
  }

  putsOf(partNumber: number): PartPut[] {
    return this.partPuts.filter((put) => put.partNumber === partNumber);
  }

  /** The bytes the store holds for an upload, parts in order. */
  storedBytes(signature: string): Uint8Array {
    const upload = this.uploads.get(signature);
    if (!upload) throw new Error(`no upload ${signature}`);
    const parts = [...upload.parts.entries()].sort(([a], [b]) => a - b).map(([, part]) => part.bytes);
    return new Uint8Array(Buffer.concat(parts));
  }

  onlyUpload(): FakeUpload {
    const [upload, ...others] = this.uploads.values();
    if (!upload || others.length > 0) throw new Error(`expected one upload, found ${this.uploads.size}`);
    return upload;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = String(input);
    if (!url.startsWith(apiBaseUrl)) throw new TypeError(`fake API: unexpected URL ${url}`);
    init?.signal?.throwIfAborted();
    const endpoint = url.slice(apiBaseUrl.length);
    const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
    this.apiCalls.push({ endpoint, body, headers: new Headers(init?.headers), credentials: init?.credentials });
    await tick();
    init?.signal?.throwIfAborted();
    const fault = this.apiFaults.get(endpoint)?.shift();
    if (fault === 'network') throw new TypeError('fetch failed');
    if (fault === 'hang') return hangUntilAborted(init?.signal);
    if (fault) return jsonResponse(fault.status, fault.body, fault.headers);
    switch (endpoint) {
      case 'upload-prepare/':
        return this.prepare(body);
      case 'upload-parts/':
        return this.signParts(body);
      case 'upload-status/':
        return this.status(body);
      case 'upload-finalize/':
        return this.finalize(body);
      case 'upload-abort/':
        return this.abort(body);
      default:
        return jsonResponse(404, { detail: 'Not found.' });
    }
  };

  readonly transport: PartTransport = {
    reportsProgress: true,
    put: async (request) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        return await this.put(request);
      } finally {
        this.inFlight--;
      }
    },
  };

  private prepare(body: Record<string, unknown>): Response {
    if (body.field_id !== knownFieldId) return jsonResponse(400, { field_id: ['Unknown field.'] });
    const fileSize = body.file_size as number;
    const signature = `sig-${this.uploads.size + 1}`;
    const multipart = fileSize > this.partSize;
    const asked = typeof body.checksum === 'string' ? [body.checksum] : ((body.checksum_algorithms ?? []) as string[]);
    const offered = this.checksumExtension ? this.checksumAlgorithms : [];
    if (typeof body.checksum === 'string' && !offered.includes(body.checksum)) {
      return jsonResponse(400, { checksum: [`This store does not verify ${body.checksum} checksums.`] });
    }
    const checksum = asked.find((name) => offered.includes(name)) ?? null;
    if (this.requireChecksums && checksum === null) {
      return jsonResponse(400, { checksum: ['This server requires a checksum for every part.'] });
    }
    const partCount = multipart ? Math.ceil(fileSize / this.partSize) : 1;
    const upload: FakeUpload = {
      signature,
      objectKey: `uploads/${signature}/${String(body.file_name)}`,
      fileSize,
      multipart,
      partSize: this.partSize,
      partCount,
      partHeaders: multipart
        ? {}
        : { 'Content-Type': (body.content_type as string) ?? 'application/octet-stream', 'If-None-Match': '*' },
      checksum,
      parts: new Map(),
      aborted: false,
      validFromGeneration: this.generation,
    };
    this.uploads.set(signature, upload);
    // Of the client's first algorithm: they sign only if that is the one picked.
    const sums = checksum !== null && checksum === asked[0] ? partChecksums(body) : new Map<number, string>();
    const firstParts =
      checksum !== null
        ? [...sums.keys()].filter((n) => n <= partCount).sort((a, b) => a - b)
        : Array.from({ length: Math.min(partCount, this.firstBatch) }, (_, index) => index + 1);
    return jsonResponse(200, {
      upload_signature: signature,
      object_key: upload.objectKey,
      upload_id: multipart ? `mpu-${signature}` : null,
      part_size: this.partSize,
      part_count: partCount,
      parts: firstParts.map((partNumber) => this.signedPart(upload, partNumber, sums.get(partNumber))),
      part_headers: upload.partHeaders,
      ...(this.maxPartUrls === null ? {} : { max_part_urls: this.maxPartUrls }),
      ...(this.checksumExtension ? { checksum, checksum_algorithms: offered } : {}),
    });
  }

  private signParts(body: Record<string, unknown>): Response {
    const upload = this.uploads.get(body.upload_signature as string);
    if (!upload) return jsonResponse(400, { upload_signature: ['Bad or expired signature.'] });
    const partNumbers = body.part_numbers as number[];
    const limit = this.maxPartUrls ?? 100;
    if (partNumbers.length === 0 || partNumbers.length > limit) {
      return jsonResponse(400, { part_numbers: [`Ask for 1 to ${limit} parts.`] });
    }
    if (partNumbers.some((n) => n < 1 || n > upload.partCount)) {
      return jsonResponse(400, { part_numbers: ['Part number out of range.'] });
    }
    // As the real server, nothing is signed for a single PUT once its object is stored.
    if (!upload.multipart && upload.parts.has(1)) {
      return jsonResponse(409, { detail: "This upload's file is stored already: finalize it to get its field value." });
    }
    // As the real server, it signs the checksums it is given, whatever the upload (MD5s without an algorithm).
    const sums = this.checksumExtension ? partChecksums(body) : new Map<number, string>();
    if (upload.checksum !== null && partNumbers.some((n) => !sums.has(n))) {
      return jsonResponse(400, {
        part_checksums: [`Every part of this upload needs its ${upload.checksum} checksum.`],
      });
    }
    return jsonResponse(200, {
      parts: partNumbers.map((partNumber) => this.signedPart(upload, partNumber, sums.get(partNumber))),
    });
  }

  private status(body: Record<string, unknown>): Response {
    const upload = this.uploads.get(body.upload_signature as string);
    if (!upload || upload.aborted) return jsonResponse(400, { upload_signature: ['Bad or expired signature.'] });
    const parts = [...upload.parts.entries()].map(([partNumber, part]) => ({
      part_number: partNumber,
      size: part.bytes.length,
      etag: part.etag,
    }));
    return jsonResponse(200, { parts });
  }

  private finalize(body: Record<string, unknown>): Response {
    const upload = this.uploads.get(body.upload_signature as string);
    if (!upload || upload.aborted) return jsonResponse(400, { upload_signature: ['Bad or expired signature.'] });
    const listed = (body.parts as { part_number: number; etag: string; checksum?: string }[]).map(
      ({ part_number, etag }) => ({ part_number, etag }),
    );
    if (upload.multipart) {
      const expected = Array.from({ length: upload.partCount }, (_, index) => ({
        part_number: index + 1,
        etag: upload.parts.get(index + 1)?.etag,
      }));
      if (JSON.stringify(listed) !== JSON.stringify(expected)) {
        return jsonResponse(400, { parts: ['The parts do not match the uploaded parts.'] });
      }
    } else if (listed.length !== 0 || !upload.parts.has(1)) {
      return jsonResponse(400, { detail: 'The object was not uploaded.' });
    }
    const size = this.storedBytes(upload.signature).length;
    if (size !== upload.fileSize) return jsonResponse(400, { detail: `Size ${size} is not ${upload.fileSize}.` });
    const whole = upload.checksum === 'crc32' ? digestOf('crc32', this.storedBytes(upload.signature)) : undefined;
    return jsonResponse(200, {
      field_value: `field-value:${upload.objectKey}`,
      object_key: upload.objectKey,
      file_size: size,
      checksum: whole ? { algorithm: 'crc32', value: whole, type: 'FULL_OBJECT' } : null,
    });
  }

  private abort(body: Record<string, unknown>): Response {
    const upload = this.uploads.get(body.upload_signature as string);
    if (!upload) return jsonResponse(400, { upload_signature: ['Bad or expired signature.'] });
    upload.aborted = true;
    upload.parts.clear();
    return new Response(null, { status: 204 });
  }

  private signedPart(upload: FakeUpload, partNumber: number, sum: string | undefined) {
    const size =
      partNumber < upload.partCount ? upload.partSize : upload.fileSize - (upload.partCount - 1) * upload.partSize;
    const query = new URLSearchParams({
      part: String(partNumber),
      size: String(size),
      gen: String(this.generation),
      sig: upload.signature,
      ...(sum ? { sum, alg: upload.checksum ?? 'md5' } : {}),
    });
    const url = `${this.storeOrigin}/bucket/${upload.objectKey}?${query}`;
    const headers = sum ? { [checksumHeader(upload.checksum ?? 'md5')]: sum } : undefined;
    return { part_number: partNumber, size, upload_url: url, ...(headers ? { headers } : {}) };
  }

  private async put({ url, body, headers, signal, onProgress }: PartPutRequest): Promise<PartPutResponse> {
    const query = new URL(url).searchParams;
    const partNumber = Number(query.get('part'));
    const upload = this.uploads.get(query.get('sig') ?? '');
    if (!upload) throw new Error(`fake store: unknown URL ${url}`);
    this.partPuts.push({ signature: upload.signature, partNumber, size: body.size, headers: { ...headers } });
    signal.throwIfAborted();
    const fault = this.storeFaults.get(partNumber)?.shift();
    if (fault === 'hang') return hangUntilAborted(signal);
    if (fault === 'crawl') {
      for (let tenth = 1; tenth < 10; tenth++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        signal.throwIfAborted();
        onProgress(Math.floor((body.size * tenth) / 10));
      }
    }
    onProgress(Math.floor(body.size / 2));
    await tick();
    signal.throwIfAborted();
    if (fault === 'network') throw new TypeError('fetch failed');
    if (typeof fault === 'object') return { status: fault.status, etag: null, body: fault.body ?? '' };
    if (Number(query.get('gen')) < upload.validFromGeneration) {
      return storeError(403, 'AccessDenied', 'Request has expired');
    }
    if (upload.aborted) return storeError(404, 'NoSuchUpload', 'The specified upload does not exist.');
    // Content-Length and the part headers are signed into the URL: anything else is refused.
    if (body.size !== Number(query.get('size'))) return storeError(403, 'SignatureDoesNotMatch', 'Content-Length');
    const signedSum = query.get('sum');
    const algorithm = query.get('alg') ?? 'md5';
    const signedHeaders = { ...upload.partHeaders, ...(signedSum ? { [checksumHeader(algorithm)]: signedSum } : {}) };
    if (JSON.stringify(headers) !== JSON.stringify(signedHeaders)) {
      return storeError(403, 'SignatureDoesNotMatch', 'headers');
    }
    // A single PUT is signed to write only where no object is.
    if (!upload.multipart && upload.parts.has(1)) {
      return storeError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    const bytes = new Uint8Array(await body.arrayBuffer());
    if (fault === 'corrupt' && bytes.length > 0) bytes[0] = (bytes[0] as number) ^ 0xff;
    if (signedSum && digestOf(algorithm, bytes) !== signedSum) {
      return storeError(400, 'BadDigest', 'The checksum you specified did not match what we received.');
    }
    const etag =
      this.etags === 'md5'
        ? `"${createHash('md5').update(bytes).digest('hex')}"`
        : `"opaque-${partNumber}-${checksum(bytes)}-${++this.opaqueEtags}"`;
    upload.parts.set(partNumber, { bytes, etag });
    if (fault === 'lost') throw new TypeError('fetch failed');
    onProgress(body.size);
    return { status: 200, etag: fault === 'no-etag' ? null : etag, body: '' };
  }
}

function partChecksums(body: Record<string, unknown>): Map<number, string> {
  const items = (body.part_checksums ?? []) as { part_number: number; checksum?: string; content_md5?: string }[];
  return new Map(items.map((item) => [item.part_number, (item.checksum ?? item.content_md5) as string]));
}

export function checksumHeader(algorithm: string): string {
  return algorithm === 'md5' ? 'Content-MD5' : `x-amz-checksum-${algorithm}`;
}

/** The base64 checksum of these bytes, as the store's headers carry it. */
export function digestOf(algorithm: string, bytes: Uint8Array): string {
  if (algorithm === 'md5') return createHash('md5').update(bytes).digest('base64');
  const digest = Buffer.alloc(4);
  digest.writeUInt32BE(crc32(bytes));
  return digest.toString('base64');
}

function hangUntilAborted(signal: AbortSignal | null | undefined): Promise<never> {
  return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

function storeError(status: number, code: string, message: string): PartPutResponse {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  return { status, etag: null, body };
}

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Response(text, { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

function checksum(bytes: Uint8Array): number {
  return bytes.reduce((sum, byte, index) => (sum * 31 + byte + index) % 1_000_000_007, 7);
}

/** Lets other requests start, so concurrent work overlaps as it would on a network. */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/** A file of `size` bytes whose bytes differ from part to part. */
export function makeFile(size: number, name = 'data.bin', lastModified = 1_700_000_000_000): File {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index++) bytes[index] = (index * 7 + 3) % 251;
  return new File([bytes], name, { type: 'application/x-test', lastModified });
}

export async function fileBytes(file: Blob): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}
