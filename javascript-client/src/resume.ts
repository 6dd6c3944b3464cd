type MaybePromise<T> = T | Promise<T>;

/** What identifies "the same upload" when a file is chosen again. */
export interface UploadFingerprint {
  readonly apiBaseUrl: string;
  readonly fieldId: string;
  readonly fileName: string;
  readonly fileSize: number;
  /** `File.lastModified`; absent for a plain `Blob`. */
  readonly lastModified: number | undefined;
  readonly contentType: string | undefined;
}

/**
 * What a resumed upload needs to go on. Part URLs are not kept: they expire,
 * and `upload-parts/` signs them again.
 */
export interface ResumeRecord {
  readonly uploadSignature: string;
  readonly objectKey: string;
  readonly multipart: boolean;
  readonly partSize: number;
  readonly partCount: number;
  readonly partHeaders: Readonly<Record<string, string>>;
  /** Whether each part URL is signed for its checksum (absent in records of older clients). */
  readonly checksums?: boolean;
  /** The algorithm they are signed for (absent in records of older clients: MD5). */
  readonly checksumAlgorithm?: string;
  /** The server's `max_part_urls` (absent in records of older clients). */
  readonly maxPartUrls?: number;
  /** When the upload was prepared (ms since the epoch). */
  readonly createdAt: number;
  /** How many parts the store held when last told: what a page offering to resume shows. */
  readonly storedParts?: number;
  /**
   * The CRC32 part 1 was signed for: a file chosen again must have it, or it is another file
   * under the same name, size and time, and its upload starts over.
   */
  readonly firstPartChecksum?: string;
}

/** Where unfinished uploads are remembered. Methods may be sync or async. */
export interface ResumeStore {
  get(key: string): MaybePromise<ResumeRecord | undefined>;
  set(key: string, record: ResumeRecord): MaybePromise<void>;
  delete(key: string): MaybePromise<void>;
}

export function resumeKey(fingerprint: UploadFingerprint): string {
  const { apiBaseUrl, fieldId, fileName, fileSize, lastModified, contentType } = fingerprint;
  return JSON.stringify([apiBaseUrl, fieldId, fileName, fileSize, lastModified ?? null, contentType ?? null]);
}

/** The fingerprint a key was made of; undefined for anything else. */
export function fingerprintOf(key: string): UploadFingerprint | undefined {
  try {
    const parts: unknown = JSON.parse(key);
    if (!Array.isArray(parts) || parts.length !== 6) return undefined;
    const [apiBaseUrl, fieldId, fileName, fileSize, lastModified, contentType] = parts as unknown[];
    if (typeof apiBaseUrl !== 'string' || typeof fieldId !== 'string' || typeof fileName !== 'string') return undefined;
    if (typeof fileSize !== 'number' || !(lastModified === null || typeof lastModified === 'number')) return undefined;
    if (!(contentType === null || typeof contentType === 'string')) return undefined;
    return {
      apiBaseUrl,
      fieldId,
      fileName,
      fileSize,
      lastModified: lastModified ?? undefined,
      contentType: contentType ?? undefined,
    };
  } catch {
    return undefined;
  }
}

/** An upload remembered unfinished, as a page lists it to offer resuming. */
export interface UnfinishedUpload {
  readonly key: string;
  readonly fingerprint: UploadFingerprint;
  readonly record: ResumeRecord;
}

/** Remembers uploads for the life of the client: enough to retry after a dropped connection. */
export class MemoryResumeStore implements ResumeStore {
  private readonly records = new Map<string, ResumeRecord>();

  get(key: string): ResumeRecord | undefined {
    return this.records.get(key);
  }

  set(key: string, record: ResumeRecord): void {
    this.records.set(key, record);
  }

  delete(key: string): void {
    this.records.delete(key);
  }
}

export interface LocalStorageResumeStoreOptions {
  /** Default: `globalThis.localStorage`. */
  readonly storage?: Storage | undefined;
  readonly keyPrefix?: string | undefined;
  /** Records older than this are dropped: their signature has expired by then. Default: 7 days. */
  readonly maxAgeMs?: number | undefined;
  readonly now?: (() => number) | undefined;
}

/** Remembers uploads across page reloads. */
export class LocalStorageResumeStore implements ResumeStore {
  private readonly storage: Storage;
  private readonly keyPrefix: string;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: LocalStorageResumeStoreOptions = {}) {
    this.storage = options.storage ?? globalThis.localStorage;
    this.keyPrefix = options.keyPrefix ?? 's3-file-field:resume:';
    this.maxAgeMs = options.maxAgeMs ?? 7 * 24 * 60 * 60 * 1000;
    this.now = options.now ?? Date.now;
  }

  get(key: string): ResumeRecord | undefined {
    const record = this.read(this.keyPrefix + key);
    if (!record) this.storage.removeItem(this.keyPrefix + key);
    return record;
  }

  set(key: string, record: ResumeRecord): void {
    this.dropStale();
    this.storage.setItem(this.keyPrefix + key, JSON.stringify(record));
  }

  delete(key: string): void {
    this.storage.removeItem(this.keyPrefix + key);
  }

  /** The unfinished uploads of one field, newest first, prepared no longer than `maxAgeMs` ago. */
  unfinished(apiBaseUrl: string, fieldId: string, maxAgeMs = this.maxAgeMs): UnfinishedUpload[] {
    const found: UnfinishedUpload[] = [];
    for (const storageKey of this.ownKeys()) {
      const key = storageKey.slice(this.keyPrefix.length);
      const fingerprint = fingerprintOf(key);
      const record = this.read(storageKey);
      if (fingerprint?.apiBaseUrl !== apiBaseUrl || fingerprint.fieldId !== fieldId || record === undefined) continue;
      if (this.now() - record.createdAt <= maxAgeMs) found.push({ key, fingerprint, record });
    }
    return found.sort((a, b) => b.record.createdAt - a.record.createdAt);
  }

  private ownKeys(): string[] {
    const keys: string[] = [];
    for (let index = 0; index < this.storage.length; index++) {
      const storageKey = this.storage.key(index);
      if (storageKey?.startsWith(this.keyPrefix)) keys.push(storageKey);
    }
    return keys;
  }

  /** Reads a record; anything corrupt, foreign or too old counts as absent. */
  private read(storageKey: string): ResumeRecord | undefined {
    const text = this.storage.getItem(storageKey);
    if (text === null) return undefined;
    try {
      const record: unknown = JSON.parse(text);
      return isResumeRecord(record) && this.now() - record.createdAt <= this.maxAgeMs ? record : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records of uploads never finished nor chosen again would otherwise pile up forever. */
  private dropStale(): void {
    for (const storageKey of this.ownKeys()) {
      if (!this.read(storageKey)) this.storage.removeItem(storageKey);
    }
  }
}

function isResumeRecord(value: unknown): value is ResumeRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.uploadSignature === 'string' &&
    typeof record.objectKey === 'string' &&
    typeof record.multipart === 'boolean' &&
    typeof record.partSize === 'number' &&
    typeof record.partCount === 'number' &&
    typeof record.createdAt === 'number' &&
    typeof record.partHeaders === 'object' &&
    record.partHeaders !== null &&
    (record.checksums === undefined || typeof record.checksums === 'boolean') &&
    (record.checksumAlgorithm === undefined ||
      record.checksumAlgorithm === 'crc32' ||
      record.checksumAlgorithm === 'md5') &&
    (record.maxPartUrls === undefined ||
      (Number.isInteger(record.maxPartUrls) && (record.maxPartUrls as number) > 0)) &&
    (record.storedParts === undefined || Number.isInteger(record.storedParts)) &&
    (record.firstPartChecksum === undefined || typeof record.firstPartChecksum === 'string')
  );
}

/** localStorage where a page can use it (it throws in some sandboxed frames), memory elsewhere. */
export function defaultResumeStore(): ResumeStore {
  try {
    if (typeof localStorage !== 'undefined' && localStorage !== null) return new LocalStorageResumeStore();
  } catch {
    // Access denied: fall through.
  }
  return new MemoryResumeStore();
}

/**
 * One upload's place in a resume store, or nowhere when resuming is off.
 * Resuming is a convenience: a full or broken store must not fail the upload,
 * so its errors count as "nothing remembered".
 */
export class ResumeSlot {
  constructor(
    private readonly store: ResumeStore | undefined,
    private readonly key: string,
  ) {}

  get enabled(): boolean {
    return this.store !== undefined;
  }

  get(): Promise<ResumeRecord | undefined> {
    return this.quietly((store) => store.get(this.key));
  }

  async set(record: ResumeRecord): Promise<void> {
    await this.quietly((store) => store.set(this.key, record));
  }

  async delete(): Promise<void> {
    await this.quietly((store) => store.delete(this.key));
  }

  private async quietly<T>(action: (store: ResumeStore) => MaybePromise<T>): Promise<T | undefined> {
    if (!this.store) return undefined;
    try {
      return await action(this.store);
    } catch {
      return undefined;
    }
  }
}
