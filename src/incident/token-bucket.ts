/**
 * A token bucket: `take()` resolves when a token is available, refilled at `ratePerSecond`. The
 * burst is one second's worth (at least one token), so a relay that counts per minute or per hour
 * never sees more than the promised rate over any window longer than a second.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly capacity: number;
  /** Waiters in arrival order, so no sender starves. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond))
      throw new RangeError(`rate must be a positive number, not ${ratePerSecond}`);
    this.capacity = Math.max(1, ratePerSecond);
    // Start with one token, not a full bucket: the first second must not burst past the rate either.
    this.tokens = 1;
    this.last = this.now();
  }

  take(): Promise<void> {
    const turn = this.queue.then(() => this.takeOne());
    this.queue = turn;
    return turn;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
  }

  private async takeOne(): Promise<void> {
    this.refill();
    while (this.tokens < 1) {
      const waitMs = Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      this.refill();
    }
    this.tokens -= 1;
  }
}
