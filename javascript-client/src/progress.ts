export type UploadState = 'preparing' | 'uploading' | 'finalizing' | 'done' | 'error' | 'aborted';

export interface UploadProgress {
  readonly state: UploadState;
  /** Bytes stored or being sent; never goes down, and equals `total` once done. */
  readonly uploaded: number;
  readonly total: number;
  /** Recent sending speed; absent until there is enough to measure. */
  readonly bytesPerSecond?: number;
  /** Parts fully stored so far (resumed ones included). */
  readonly partsDone: number;
  /** 0 until the server has split the file. */
  readonly partCount: number;
}

export type ProgressListener = (progress: UploadProgress) => void;

export interface ProgressTrackerOptions {
  /** Least time between two byte-progress reports; state changes are reported at once. */
  readonly intervalMs: number;
  readonly now: () => number;
}

/** Speed is measured over this much recent history: long enough to smooth, short enough to follow. */
const speedWindowMs = 5000;
/** Below this much history a speed would be noise. */
const minSpeedSpanMs = 500;

/**
 * Turns per-part byte counts into throttled, monotonic progress reports.
 * A part that is retried starts again from 0, so the raw sum can go down:
 * the report holds its highest value until the sum passes it again.
 */
export class ProgressTracker {
  private state: UploadState = 'preparing';
  private partCount = 0;
  private partsDone = 0;
  private storedBytes = 0;
  private readonly sendingBytes = new Map<number, number>();
  private reported = 0;
  private lastReportAt = Number.NEGATIVE_INFINITY;
  private samples: { at: number; uploaded: number }[] = [];

  constructor(
    private readonly total: number,
    private readonly listener: ProgressListener | undefined,
    private readonly options: ProgressTrackerOptions,
  ) {}

  setState(state: UploadState): void {
    this.state = state;
    if (state === 'uploading') this.samples = [{ at: this.options.now(), uploaded: this.reported }];
    if (state === 'done') this.reported = this.total;
    this.report();
  }

  setPartCount(partCount: number): void {
    this.partCount = partCount;
  }

  /** A part the store already held when a resumed upload began: counted, but not as speed. */
  partAlreadyStored(size: number): void {
    this.storedBytes += size;
    this.partsDone++;
    this.reported = Math.max(this.reported, this.storedBytes);
  }

  partSending(partNumber: number, sentBytes: number): void {
    this.sendingBytes.set(partNumber, sentBytes);
    this.bytesChanged();
  }

  partStored(partNumber: number, size: number): void {
    this.sendingBytes.delete(partNumber);
    this.storedBytes += size;
    this.partsDone++;
    this.bytesChanged();
  }

  private bytesChanged(): void {
    let uploaded = this.storedBytes;
    for (const sent of this.sendingBytes.values()) uploaded += sent;
    if (uploaded <= this.reported) return;
    this.reported = Math.min(uploaded, this.total);
    const now = this.options.now();
    this.samples.push({ at: now, uploaded: this.reported });
    while (this.samples.length > 1 && (this.samples[1]?.at ?? now) <= now - speedWindowMs) this.samples.shift();
    if (now - this.lastReportAt >= this.options.intervalMs) this.report();
  }

  private bytesPerSecond(now: number): number | undefined {
    const oldest = this.samples[0];
    if (this.state !== 'uploading' || !oldest || now - oldest.at < minSpeedSpanMs) return undefined;
    return Math.round(((this.reported - oldest.uploaded) * 1000) / (now - oldest.at));
  }

  private report(): void {
    const now = this.options.now();
    this.lastReportAt = now;
    if (!this.listener) return;
    const bytesPerSecond = this.bytesPerSecond(now);
    const progress: UploadProgress = {
      state: this.state,
      uploaded: this.reported,
      total: this.total,
      partsDone: this.partsDone,
      partCount: this.partCount,
      ...(bytesPerSecond === undefined ? {} : { bytesPerSecond }),
    };
    try {
      this.listener(progress);
    } catch (error) {
      // A listener's bug must not break the upload; report it like an event handler's.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
