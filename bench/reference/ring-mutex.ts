/**
 * The yardstick for the lock benchmarks: the least a fair async mutex can do. A FIFO ring of resolvers, direct
 * hand-off on release (the lock never becomes free while someone waits), no guards, no cancellation, no checks.
 */
export class RingMutex {
  private locked = false;
  private ring: ((value: void) => void)[] = new Array<(value: void) => void>(16);
  private head = 0;
  private size = 0;

  acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      if (this.size === this.ring.length) this.grow();
      this.ring[(this.head + this.size++) & (this.ring.length - 1)] = resolve;
    });
  }

  release(): void {
    if (this.size === 0) {
      this.locked = false;
      return;
    }
    const resolve = this.ring[this.head] as (value: void) => void;
    this.ring[this.head] = undefined as never;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.size--;
    resolve(); // direct hand-off: `locked` stays true
  }

  private grow(): void {
    const ring = new Array<(value: void) => void>(this.ring.length * 2);
    for (let i = 0; i < this.size; i++)
      ring[i] = this.ring[(this.head + i) & (this.ring.length - 1)] as (value: void) => void;
    this.ring = ring;
    this.head = 0;
  }
}

/** A guard as the contract wants one: a fresh object per hold, idempotent `release()`. */
export class RingGuard {
  released = false;

  constructor(private readonly mutex: RingGuardMutex) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.mutex.release();
  }
}

/**
 * {@link RingMutex} with the contract's API shape: `acquire()` resolves to a fresh guard object, handed directly to
 * the next waiter. It shows what that shape costs by itself (an allocation per hold, and the promise machinery's
 * `then` lookup on an object result), apart from everything else coop-sync does.
 */
export class RingGuardMutex {
  private locked = false;
  private ring: ((guard: RingGuard) => void)[] = new Array<(guard: RingGuard) => void>(16);
  private head = 0;
  private size = 0;

  acquire(): Promise<RingGuard> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve(new RingGuard(this));
    }
    return new Promise<RingGuard>((resolve) => {
      if (this.size === this.ring.length) this.grow();
      this.ring[(this.head + this.size++) & (this.ring.length - 1)] = resolve;
    });
  }

  release(): void {
    if (this.size === 0) {
      this.locked = false;
      return;
    }
    const resolve = this.ring[this.head] as (guard: RingGuard) => void;
    this.ring[this.head] = undefined as never;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.size--;
    resolve(new RingGuard(this));
  }

  private grow(): void {
    const ring = new Array<(guard: RingGuard) => void>(this.ring.length * 2);
    for (let i = 0; i < this.size; i++) {
      ring[i] = this.ring[(this.head + i) & (this.ring.length - 1)] as (guard: RingGuard) => void;
    }
    this.ring = ring;
    this.head = 0;
  }
}

/** The least a `run` can be on {@link RingMutex}: acquire, call `fn`, release when it settles. */
export async function ringRun<T>(lock: RingMutex | RingSemaphore, fn: () => T | PromiseLike<T>): Promise<T> {
  await lock.acquire();
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/**
 * The yardstick for the limiter benchmark: a counting semaphore as a FIFO ring of resolvers with direct hand-off (a
 * released permit goes straight to the head waiter), no weights, guards, cancellation or checks.
 */
export class RingSemaphore {
  private ring: ((value: void) => void)[] = new Array<(value: void) => void>(16);
  private head = 0;
  private size = 0;

  constructor(private available: number) {}

  acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      if (this.size === this.ring.length) this.grow();
      this.ring[(this.head + this.size++) & (this.ring.length - 1)] = resolve;
    });
  }

  release(): void {
    if (this.size === 0) {
      this.available++;
      return;
    }
    const resolve = this.ring[this.head] as (value: void) => void;
    this.ring[this.head] = undefined as never;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.size--;
    resolve();
  }

  private grow(): void {
    const ring = new Array<(value: void) => void>(this.ring.length * 2);
    for (let i = 0; i < this.size; i++)
      ring[i] = this.ring[(this.head + i) & (this.ring.length - 1)] as (value: void) => void;
    this.ring = ring;
    this.head = 0;
  }
}
