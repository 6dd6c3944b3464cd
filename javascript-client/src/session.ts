import type { UploadApi } from './api.js';
import { blobChecksum, type ChecksumAlgorithm, type Hashers } from './checksums.js';
import { ApiCallError } from './errors.js';
import type { IntegrityMode, ServerTraits } from './integrity.js';
import { type PlannedPart, planParts } from './plan.js';
import { defaultMaxPartUrls, type PreparedUpload, type SignedPart } from './protocol.js';
import type { ResumeRecord, ResumeSlot } from './resume.js';

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

/** An upload the server knows about: prepared now, or found in the resume store. */
export interface UploadSession {
  readonly signature: string;
  readonly multipart: boolean;
  readonly partHeaders: Readonly<Record<string, string>>;
  /** The most part URLs one `upload-parts/` call may ask for. */
  readonly maxPartUrls: number;
  readonly integrity: IntegrityMode;
  /** In mode `signed`, what every part URL is signed for. */
  readonly checksumAlgorithm: ChecksumAlgorithm;
  readonly parts: readonly PlannedPart[];
  /** Part URLs at hand (from `upload-prepare/`). */
  readonly signed: readonly SignedPart[];
  /** ETags of the parts the store holds. */
  readonly etags: Map<number, string>;
  /** What the resume store holds of it. */
  readonly record: ResumeRecord;
}

export interface SessionContext {
  readonly api: UploadApi;
  readonly input: UploadInput;
  readonly checksums: boolean;
  readonly hashers: Hashers;
  readonly traits: ServerTraits;
  readonly resume: ResumeSlot;
  readonly signal: AbortSignal;
}

/** The remembered upload of this file if the server still knows it, else a new one. */
export async function openSession(context: SessionContext): Promise<UploadSession> {
  return (await resumeSession(context)) ?? (await newSession(context));
}

async function newSession(context: SessionContext): Promise<UploadSession> {
  const { blob } = context.input;
  const { prepared, checksums } = await prepare(context);
  const parts = planParts(blob.size, prepared.partSize, prepared.partCount);
  const picked = knownAlgorithm(prepared.checksum);
  // The whole file's CRC32 went as part 1's; a server that picked it and split
  // even so small a file signed part 1 for the wrong checksum: it is signed again.
  const signedForWholeFile = picked === 'crc32' && !!checksums?.size && parts[0]?.size !== blob.size;
  // A single PUT writes only where no object is, so one stored altered could not be
  // sent again: its URL is signed for its MD5, and the store checks the bytes.
  const signOnePut = prepared.uploadId === null && context.checksums && picked === undefined;
  const multipart = prepared.uploadId !== null;
  const integrity = signOnePut ? 'signed' : integrityMode(picked !== undefined, context.checksums);
  const checksumAlgorithm = picked ?? 'md5';
  const record: ResumeRecord = {
    uploadSignature: prepared.uploadSignature,
    objectKey: prepared.objectKey,
    multipart,
    partSize: prepared.partSize,
    partCount: prepared.partCount,
    partHeaders: prepared.partHeaders,
    checksums: integrity === 'signed',
    checksumAlgorithm,
    maxPartUrls: prepared.maxPartUrls,
    createdAt: Date.now(),
    storedParts: 0,
  };
  await context.resume.set(record);
  return {
    signature: prepared.uploadSignature,
    multipart,
    partHeaders: prepared.partHeaders,
    maxPartUrls: prepared.maxPartUrls,
    integrity,
    checksumAlgorithm,
    parts,
    signed: signedForWholeFile || signOnePut ? [] : prepared.parts,
    etags: new Map(),
    record,
  };
}

/**
 * Prepares the upload asking for CRC32, which the server picks where its store
 * verifies it: every part is then signed for its CRC32. Where it does not, the
 * parts are checked by their ETags (MD5s), or, where the server requires a
 * checksum it verifies (it refuses the first way with a `checksum` error; the
 * client remembers), signed for their MD5.
 */
async function prepare(
  context: SessionContext,
): Promise<{ prepared: PreparedUpload; checksums: Map<number, string> | undefined }> {
  const { api, input, traits, signal } = context;
  const { blob, fieldId, fileName, contentType } = input;
  const prepareWith = (checksumAlgorithms: ChecksumAlgorithm[] | undefined, checksums?: Map<number, string>) =>
    api.prepare({ fieldId, fileName, fileSize: blob.size, contentType, checksumAlgorithms, checksums }, signal);
  if (!context.checksums) return { prepared: await prepareWith(undefined), checksums: undefined };
  const checksums = await smallFileCrc32(context);
  if (!traits.requiresSignedChecksums) {
    try {
      return { prepared: await prepareWith(['crc32'], checksums), checksums };
    } catch (error) {
      if (!(error instanceof ApiCallError && error.status === 400 && error.fieldErrors?.checksum)) throw error;
      traits.requiresSignedChecksums = true;
    }
  }
  return { prepared: await prepareWith(['crc32', 'md5'], checksums), checksums };
}

/**
 * What `upload-prepare/` gets to sign a URL for at once: for a small file (one
 * part, whatever the server's part size), its CRC32, which costs next to nothing.
 */
async function smallFileCrc32(context: SessionContext): Promise<Map<number, string>> {
  const { blob } = context.input;
  if (blob.size > surelySinglePartBytes) return new Map();
  return new Map([[1, await blobChecksum(blob, context.hashers.crc32)]]);
}

/** The algorithm the server picked, if it is one this client computes. */
function knownAlgorithm(name: string | null | undefined): ChecksumAlgorithm | undefined {
  return name === 'crc32' || name === 'md5' ? name : undefined;
}

/** How the parts are checked, given whether the server signs each for a checksum. */
function integrityMode(signedChecksums: boolean, checksums: boolean): IntegrityMode {
  return signedChecksums ? 'signed' : checksums ? 'etag' : 'none';
}

/**
 * The remembered upload of this file, with the parts the store already holds; none when
 * the file's first part is not the one that upload began with (another file, same name,
 * size and time), whose upload is then freed on the server.
 */
async function resumeSession(context: SessionContext): Promise<UploadSession | undefined> {
  const record = await context.resume.get();
  if (!record) return undefined;
  if (!(await sameFirstPart(context, record))) {
    await context.resume.delete();
    context.api.abort(record.uploadSignature).catch(() => {});
    return undefined;
  }
  let parts: PlannedPart[];
  let etags: Map<number, string>;
  try {
    parts = planParts(context.input.blob.size, record.partSize, record.partCount);
    const stored = await context.api.status(record.uploadSignature, context.signal);
    // A part of another size is a leftover of some other file: send ours again.
    etags = new Map(
      stored
        .filter((part) => parts[part.partNumber - 1]?.size === part.size)
        .map((part) => [part.partNumber, part.etag]),
    );
  } catch (error) {
    // The server no longer knows the upload (signature expired, upload aborted): start over.
    if (!(error instanceof ApiCallError && error.status >= 400 && error.status < 500)) throw error;
    await context.resume.delete();
    return undefined;
  }
  return {
    signature: record.uploadSignature,
    multipart: record.multipart,
    partHeaders: record.partHeaders,
    maxPartUrls: record.maxPartUrls ?? defaultMaxPartUrls,
    integrity: integrityMode(record.checksums === true, context.checksums),
    checksumAlgorithm: knownAlgorithm(record.checksumAlgorithm) ?? 'md5',
    parts,
    signed: [],
    etags,
    record,
  };
}

/** Whether the file's first part has the CRC32 the remembered upload's began with (if known). */
async function sameFirstPart(context: SessionContext, record: ResumeRecord): Promise<boolean> {
  if (record.firstPartChecksum === undefined) return true;
  const { blob } = context.input;
  const firstPart = blob.slice(0, Math.min(record.partSize, blob.size));
  return (await blobChecksum(firstPart, context.hashers.crc32)) === record.firstPartChecksum;
}
