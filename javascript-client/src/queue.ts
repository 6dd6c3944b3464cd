import { type AdaptiveConcurrency, ConcurrencyProbe } from './concurrency.js';
import { clientDefaults } from './defaults.js';

export interface RequestQueueOptions {
  /**
   * Find how many of `limit` to use while uploading (see {@link AdaptiveConcurrency}), or
   * `false` to use them all from the start. Default: `clientDefaults.adaptiveConcurrency`.
   */
  readonly adaptive?: AdaptiveConcurrency | false | undefined;
  /** The clock the adaptive rule measures with, in milliseconds. */
  readonly now?: (() => number) | undefined;
}

/**
 * A bound on the part PUTs in flight, shared by every upload that uses it: the
 * uploads of one client, or of many (the widget gives one to all the file
 * fields of a page). Uploads take turns in the order they asked, so a file
 * dropped later starts as soon as a slot frees, not after the earlier files.
 */
export class RequestQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly probe: ConcurrencyProbe | undefined;

  /** `limit`: the most requests in flight at once. */
  constructor(
    readonly limit: number,
    options: RequestQueueOptions = {},
  ) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`a queue's limit must be an integer ≥ 1, not ${limit}`);
    const adaptive = options.adaptive ?? clientDefaults.adaptiveConcurrency;
    if (adaptive !== false) {
      this.probe = new ConcurrencyProbe(limit, adaptive, options.now ?? (() => performance.now()));
    }
  }

  /** Requests in flight now. */
  get active(): number {
    return this.running;
  }

  /** Requests allowed in flight now: `limit`, or fewer while the adaptive rule finds how many help. */
  get allowed(): number {
    return this.probe?.limit ?? this.limit;
  }

  /** Told of bytes sent by requests in flight: what the adaptive rule measures. */
  sent(bytes: number): void {
    if (this.probe === undefined) return;
    this.probe.observe(bytes, this.running, this.waiting.length);
    while (this.running < this.allowed && this.waiting.length > 0) this.waiting.shift()?.();
  }

  /** Runs `request` once a slot is free; aborting `signal` while it waits gives up its turn. */
  async run<T>(request: () => Promise<T>, signal: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await request();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.running < this.allowed) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const turn = () => {
        signal.removeEventListener('abort', giveUp);
        this.running++;
        resolve();
      };
      const giveUp = () => {
        this.waiting.splice(this.waiting.indexOf(turn), 1);
        reject(signal.reason);
      };
      this.waiting.push(turn);
      signal.addEventListener('abort', giveUp, { once: true });
    });
  }

  private release(): void {
    this.running--;
    if (this.running < this.allowed) this.waiting.shift()?.();
  }
}
