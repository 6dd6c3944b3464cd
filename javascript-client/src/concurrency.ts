/**
 * How many part PUTs go at once, found while uploading: a few to start, doubled while each
 * doubling makes the bytes go faster by `growth`, and back to the last that did once one does
 * not. A link that caps each connection (most links to a distant store) keeps growing to the
 * most allowed; a store that is itself the limit (on the same machine, or a small one) settles
 * low, where more connections would only cost it more (benchmarks/README.md, "Client throughput").
 */
export interface AdaptiveConcurrency {
  /** Connections to begin with (at most the queue's limit). */
  readonly startAt: number;
  /** How long each number of connections is measured, from when they are all busy. */
  readonly windowMs: number;
  /** How much faster a doubling must be to be kept, e.g. 1.15 for 15 %. */
  readonly growth: number;
}

export class ConcurrencyProbe {
  private allowed: number;
  private best: { limit: number; bytesPerMs: number } | undefined;
  private settled = false;
  private window: { startedAt: number; bytes: number } | undefined;

  constructor(
    private readonly most: number,
    private readonly rule: AdaptiveConcurrency,
    private readonly now: () => number,
  ) {
    this.allowed = Math.max(1, Math.min(most, rule.startAt));
    this.settled = this.allowed >= most;
  }

  /** Requests allowed at once now. */
  get limit(): number {
    return this.allowed;
  }

  /**
   * Told of `bytes` sent by the requests in flight, with how many there are and how many wait
   * for a slot. A window counts only while every slot is wanted: with fewer requests than
   * slots, what they send says nothing of what more connections would.
   */
  observe(bytes: number, running: number, waiting: number): void {
    if (this.settled) return;
    const at = this.now();
    if (running + waiting < this.allowed) {
      this.window = undefined;
      return;
    }
    if (this.window === undefined) {
      // Bytes reported now were sent before this window began.
      this.window = { startedAt: at, bytes: 0 };
      return;
    }
    this.window.bytes += bytes;
    const span = at - this.window.startedAt;
    if (span < this.rule.windowMs) return;
    const bytesPerMs = this.window.bytes / span;
    this.window = undefined;
    if (this.best === undefined || bytesPerMs >= this.best.bytesPerMs * this.rule.growth) {
      this.best = { limit: this.allowed, bytesPerMs };
      this.allowed = Math.min(this.most, this.allowed * 2);
      this.settled = this.best.limit >= this.most;
    } else {
      this.allowed = this.best.limit;
      this.settled = true;
    }
  }
}
