import type { UploadApi } from './api.js';
import { blobMd5, type CreateMd5Hasher } from './checksums.js';
import { ApiCallError } from './errors.js';
import type { IntegrityMode, ServerTraits } from './integrity.js';
import { type PlannedPart, planParts } from './plan.js';
import { defaultMaxPartUrls, type PreparedUpload, type SignedPart } from './protocol.js';
import type { ResumeSlot } from './resume.js';

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
  readonly parts: readonly PlannedPart[];
  /** Part URLs at hand (from `upload-prepare/`). */
  readonly signed: readonly SignedPart[];
  /** ETags of the parts the store holds. */
  readonly etags: Map<number, string>;
}

export interface SessionContext {
  readonly api: UploadApi;
  readonly input: UploadInput;
  readonly checksums: boolean;
  readonly createMd5Hasher: CreateMd5Hasher;
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
  // The whole file's checksum went as part 1's; a server that splits even so
  // small a file signed part 1 for the wrong checksum: it is signed again.
  const signedForWholeFile = checksums !== undefined && checksums.size > 0 && parts[0]?.size !== blob.size;
  // A single PUT writes only where no object is, so one stored altered could not be
  // sent again: its URL is signed for its checksum, and the store checks the bytes.
  const signOnePut = prepared.uploadId === null && context.checksums && !prepared.checksums;
  const session: UploadSession = {
    signature: prepared.uploadSignature,
    multipart: prepared.uploadId !== null,
    partHeaders: prepared.partHeaders,
    maxPartUrls: prepared.maxPartUrls,
    integrity: signOnePut ? 'signed' : integrityMode(prepared.checksums, context.checksums),
    parts,
    signed: signedForWholeFile || signOnePut ? [] : prepared.parts,
    etags: new Map(),
  };
  await context.resume.set({
    uploadSignature: prepared.uploadSignature,
    objectKey: prepared.objectKey,
    multipart: session.multipart,
    partSize: prepared.partSize,
    partCount: prepared.partCount,
    partHeaders: prepared.partHeaders,
    checksums: session.integrity === 'signed',
    maxPartUrls: prepared.maxPartUrls,
    createdAt: Date.now(),
  });
  return session;
}

/**
 * Prepares the upload with parts checked by their ETags, or signed for their
 * checksums where the server requires it (it refuses the first way with a
 * `checksum` error; the client remembers).
 */
async function prepare(
  context: SessionContext,
): Promise<{ prepared: PreparedUpload; checksums: Map<number, string> | undefined }> {
  const { api, input, traits, signal } = context;
  const { blob, fieldId, fileName, contentType } = input;
  const prepareWith = (checksums: Map<number, string> | undefined) =>
    api.prepare({ fieldId, fileName, fileSize: blob.size, contentType, checksums }, signal);
  if (context.checksums && !traits.requiresSignedChecksums) {
    try {
      return { prepared: await prepareWith(undefined), checksums: undefined };
    } catch (error) {
      if (!(error instanceof ApiCallError && error.status === 400 && error.fieldErrors?.checksum)) throw error;
      traits.requiresSignedChecksums = true;
    }
  }
  const checksums = await checksumsToPrepare(context);
  return { prepared: await prepareWith(checksums), checksums };
}

/** What `upload-prepare/` gets to sign part URLs for checksums: for a small file, its one part's. */
async function checksumsToPrepare(context: SessionContext): Promise<Map<number, string> | undefined> {
  const { blob } = context.input;
  if (!context.checksums) return undefined;
  return blob.size <= surelySinglePartBytes ? new Map([[1, await blobMd5(blob, context.createMd5Hasher)]]) : new Map();
}

/** How the parts are checked, given whether the server signs each for its Content-MD5. */
function integrityMode(signedChecksums: boolean, checksums: boolean): IntegrityMode {
  return signedChecksums ? 'signed' : checksums ? 'etag' : 'none';
}

/** The remembered upload of this file, with the parts the store already holds. */
async function resumeSession(context: SessionContext): Promise<UploadSession | undefined> {
  const record = await context.resume.get();
  if (!record) return undefined;
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
    parts,
    signed: [],
    etags,
  };
}
