/**
 * The yardstick for the readers-writer benchmark: the least a fair (arrival-order) readers-writer lock can do. One
 * FIFO ring of waiters (resolver + mode), head readers granted together, a queued writer blocks later readers,
 * direct hand-off; no guards, no cancellation, no checks.
 */
export class RingRWLock {
  private readers = 0;
  private writer = false;
  private resolvers: ((value: void) => void)[] = new Array<(value: void) => void>(16);
  private writes: boolean[] = new Array<boolean>(16);
  private head = 0;
  private size = 0;

  read(): Promise<void> {
    if (!this.writer && this.size === 0) {
      this.readers++;
      return Promise.resolve();
    }
    return this.park(false);
  }

  write(): Promise<void> {
    if (!this.writer && this.readers === 0 && this.size === 0) {
      this.writer = true;
      return Promise.resolve();
    }
    return this.park(true);
  }

  releaseRead(): void {
    if (--this.readers === 0) this.grant();
  }

  releaseWrite(): void {
    this.writer = false;
    this.grant();
  }

  private park(write: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.size === this.resolvers.length) this.grow();
      const slot = (this.head + this.size++) & (this.resolvers.length - 1);
      this.resolvers[slot] = resolve;
      this.writes[slot] = write;
    });
  }

  private grant(): void {
    while (this.size > 0 && !this.writer) {
      const write = this.writes[this.head] as boolean;
      if (write && this.readers > 0) return;
      const resolve = this.resolvers[this.head] as (value: void) => void;
      this.resolvers[this.head] = undefined as never;
      this.head = (this.head + 1) & (this.resolvers.length - 1);
      this.size--;
      if (write) this.writer = true;
      else this.readers++;
      resolve();
      if (write) return;
    }
  }

  private grow(): void {
    const length = this.resolvers.length;
    const resolvers = new Array<(value: void) => void>(length * 2);
    const writes = new Array<boolean>(length * 2);
    for (let i = 0; i < this.size; i++) {
      resolvers[i] = this.resolvers[(this.head + i) & (length - 1)] as (value: void) => void;
      writes[i] = this.writes[(this.head + i) & (length - 1)] as boolean;
    }
    this.resolvers = resolvers;
    this.writes = writes;
    this.head = 0;
  }
}

/**
 * The yardstick for the keyed-lock benchmark: a `Map` from key to a FIFO array of resolvers, the entry deleted when
 * the key goes idle (direct hand-off; no guards, no cancellation, one key a call).
 */
export class MapKeyedLock<K> {
  private readonly queues = new Map<K, ((value: void) => void)[]>();

  acquire(key: K): Promise<void> {
    const queue = this.queues.get(key);
    if (queue === undefined) {
      this.queues.set(key, []);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => queue.push(resolve));
  }

  release(key: K): void {
    const queue = this.queues.get(key) as ((value: void) => void)[];
    const next = queue.shift();
    if (next === undefined) this.queues.delete(key);
    else next();
  }

  get size(): number {
    return this.queues.size;
  }
}
