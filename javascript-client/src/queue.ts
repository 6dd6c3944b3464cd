/**
 * A bound on the part PUTs in flight, shared by every upload that uses it: the
 * uploads of one client, or of many (the widget gives one to all the file
 * fields of a page). Uploads take turns in the order they asked, so a file
 * dropped later starts as soon as a slot frees, not after the earlier files.
 */
export class RequestQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`a queue's limit must be an integer ≥ 1, not ${limit}`);
  }

  /** Requests in flight now. */
  get active(): number {
    return this.running;
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
    if (this.running < this.limit) {
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
    this.waiting.shift()?.();
  }
}
