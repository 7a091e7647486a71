/**
 * Token buckets per key (a client address, a contact hash), in memory. A bucket that has refilled
 * to capacity behaves exactly like a missing one, so sweeping full buckets loses nothing; only when
 * more than `maxKeys` keys are still draining are the oldest dropped, which keeps memory bounded
 * under a flood of distinct keys at the price of forgiving those keys early.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    /** Requests allowed in a burst, and per `periodMs` on average. */
    private readonly capacity: number,
    periodMs: number,
    private readonly maxKeys = 100_000,
  ) {
    if (!(capacity >= 1) || !(periodMs > 0))
      throw new RangeError('a rate limit needs capacity >= 1 and a period');
    this.perMs = capacity / periodMs;
  }

  /** Takes one token for `key`: 0 when allowed, else the milliseconds until one is available. */
  take(key: string, now: number): number {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evict(now);
      this.buckets.set(key, { tokens: this.capacity - 1, at: now });
      return 0;
    }
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perMs);
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.capacity) this.buckets.delete(key);
    }
    // Still full of draining buckets: drop the oldest tenth (Map keeps insertion order).
    let drop = this.buckets.size >= this.maxKeys ? Math.ceil(this.maxKeys / 10) : 0;
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}
