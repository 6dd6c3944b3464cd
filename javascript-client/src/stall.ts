/**
 * The signal of one part attempt: it aborts with the upload, and also when the
 * attempt makes no progress for `timeoutMs` (0: never). A connection that hangs
 * without failing (a dead proxy, a half-open socket) then fails and is retried,
 * instead of holding the upload until the caller gives up.
 */
export class StallGuard {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stalledNow = false;

  constructor(
    private readonly upload: AbortSignal,
    private readonly timeoutMs: number,
  ) {
    if (upload.aborted) this.controller.abort(upload.reason);
    else upload.addEventListener('abort', this.followUpload, { once: true });
    this.progressed();
  }

  /** Whether the attempt was aborted for making no progress. */
  get stalled(): boolean {
    return this.stalledNow;
  }

  /** Bytes moved: the attempt is alive, its clock starts again. */
  progressed(): void {
    if (this.timeoutMs <= 0 || this.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stalledNow = true;
      this.controller.abort(new Error(`no progress for ${this.timeoutMs / 1000} s`));
    }, this.timeoutMs);
  }

  /** The attempt is over: no clock, no listener left behind. */
  release(): void {
    clearTimeout(this.timer);
    this.upload.removeEventListener('abort', this.followUpload);
  }

  private readonly followUpload = (): void => {
    clearTimeout(this.timer);
    this.controller.abort(this.upload.reason);
  };
}
