/**
 * The two budgets an {@link AsyncRateLimiter} can spend: a token bucket and a strict sliding window. Each answers
 * three questions about time `now` (ms): how many whole permits are free, take some,
 * and from when `n` permits will be free if nobody else takes any. Neither keeps a timer: the limiter owns the one
 * timer and asks {@link RateBudget.readyAt} where to put it.
 *
 * @module
 */

/** What the limiter needs of a budget. */
export interface RateBudget {
  /** Whole permits that could be taken at `now`. */
  free(now: number): number;
  /** Spends `permits` at `now`; the caller has checked {@link RateBudget.free}. */
  take(permits: number, now: number): void;
  /** The earliest time, `>= now`, at which `permits` will be free if nothing is taken meanwhile. */
  readyAt(permits: number, now: number): number;
}

/**
 * A token bucket refilled continuously at `limit` permits per `interval` ms, holding at most `burst`, starting full.
 *
 * Kept as the generic cell rate algorithm: instead of a fractional token count updated at every call (which drifts
 * as rounding errors add up), it keeps a `base` time and the permits `spent` since then. The bucket holds
 * `burst - spent + (now - base) * limit / interval` tokens; every test is done multiplied out by `interval`, so with
 * integer times and an integer `interval` it is exact, however many permits have been granted.
 *
 * Invariant: `spent * interval > (now - base) * limit` unless `spent === 0` (the bucket is not yet full again). When
 * the refill catches up with what was spent, `base` moves to `now` and `spent` to 0: a full bucket, whatever
 * happened before (no stale state after an idle hour).
 */
export class TokenBucket implements RateBudget {
  /** Meaningful only while `spent > 0`: a full bucket has no time of its own. */
  private base = 0;
  private spent = 0;

  constructor(
    private readonly limit: number,
    private readonly interval: number,
    private readonly burst: number,
  ) {}

  /** Tokens in the bucket times `interval`: `(burst - spent) * interval + (now - base) * limit`, capped at full. */
  private scaledTokens(now: number): number {
    if (this.spent === 0) return this.burst * this.interval;
    const refilled = (now - this.base) * this.limit;
    if (refilled >= this.spent * this.interval) {
      // Full again: start afresh from now.
      this.base = now;
      this.spent = 0;
      return this.burst * this.interval;
    }
    return (this.burst - this.spent) * this.interval + refilled;
  }

  free(now: number): number {
    const scaled = this.scaledTokens(now);
    return scaled <= 0 ? 0 : Math.floor(scaled / this.interval);
  }

  take(permits: number, now: number): void {
    this.scaledTokens(now);
    if (this.spent === 0) this.base = now;
    this.spent += permits;
    if (this.spent > this.limit * 65_536) {
      // A backlog that never lets the bucket fill: move `base` on by whole intervals (and `spent` down by as many
      // `limit`s), which changes no token count and keeps the products small and exact.
      const intervals = Math.floor(this.spent / this.limit) - 1;
      this.base += intervals * this.interval;
      this.spent -= intervals * this.limit;
    }
  }

  readyAt(permits: number, now: number): number {
    if (this.scaledTokens(now) >= permits * this.interval) return now;
    // Solve (burst - spent) * interval + (t - base) * limit >= permits * interval for t.
    const at = this.base + ((this.spent + permits - this.burst) * this.interval) / this.limit;
    return at > now ? at : now;
  }
}

/**
 * A strict sliding window: in every half-open window `[t, t + interval)` at most `limit` permits. Each grant is
 * logged with its time; a permit granted at `t` frees its slot at `t + interval` exactly. Grants at the same instant
 * share one entry, so the log holds at most `limit` entries.
 *
 * Invariant: `used` is the sum of the logged counts, and every logged grant is younger than `interval` as of the last
 * call (older ones are dropped first thing in every method).
 */
export class SlidingWindow implements RateBudget {
  private times: number[] = [];
  private counts: number[] = [];
  /** Index of the oldest live entry; entries before it are spent. */
  private start = 0;
  private used = 0;

  constructor(
    private readonly limit: number,
    private readonly interval: number,
  ) {}

  /** Drops the grants whose slot has freed by `now`. */
  private expire(now: number): void {
    const { times, counts, interval } = this;
    let start = this.start;
    while (start < times.length && times[start]! + interval <= now) {
      this.used -= counts[start]!;
      start++;
    }
    if (start === times.length) {
      times.length = 0;
      counts.length = 0;
      start = 0;
    } else if (start >= 1024 && start * 2 >= times.length) {
      times.splice(0, start);
      counts.splice(0, start);
      start = 0;
    }
    this.start = start;
  }

  free(now: number): number {
    this.expire(now);
    return this.limit - this.used;
  }

  take(permits: number, now: number): void {
    this.expire(now);
    const last = this.times.length - 1;
    // The log stays sorted even if the clock steps back: such a grant is logged at the latest time (later, safer).
    if (last >= this.start && this.times[last]! >= now) this.counts[last]! += permits;
    else {
      this.times.push(now);
      this.counts.push(permits);
    }
    this.used += permits;
  }

  readyAt(permits: number, now: number): number {
    this.expire(now);
    let used = this.used;
    const allowed = this.limit - permits;
    for (let i = this.start; used > allowed; i++) {
      used -= this.counts[i]!;
      if (used <= allowed) return this.times[i]! + this.interval;
    }
    return now;
  }
}
