/**
 * The yardstick for the queue benchmark: a minimal bounded async FIFO queue. Items live in a power-of-two ring;
 * blocked getters and putters wait in FIFO rings; an item is handed directly to a waiting getter, and a freed slot
 * directly to the head putter. No options, no cancellation, no shutdown.
 */
class Ring<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(16);
  private head = 0;
  size = 0;

  push(item: T): void {
    if (this.size === this.items.length) {
      const items = new Array<T | undefined>(this.items.length * 2);
      for (let i = 0; i < this.size; i++) items[i] = this.items[(this.head + i) & (this.items.length - 1)];
      this.items = items;
      this.head = 0;
    }
    this.items[(this.head + this.size++) & (this.items.length - 1)] = item;
  }

  shift(): T {
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.size--;
    return item;
  }
}

interface Putter<T> {
  item: T;
  resolve: (value: void) => void;
}

export class RingQueue<T> {
  private readonly buffer = new Ring<T>();
  private readonly getters = new Ring<(item: T) => void>();
  private readonly putters = new Ring<Putter<T>>();

  constructor(private readonly maxsize: number) {}

  put(item: T): Promise<void> {
    if (this.getters.size > 0) {
      this.getters.shift()(item); // only possible while the buffer is empty
      return Promise.resolve();
    }
    if (this.buffer.size < this.maxsize) {
      this.buffer.push(item);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.putters.push({ item, resolve }));
  }

  get(): Promise<T> {
    if (this.buffer.size > 0) {
      const item = this.buffer.shift();
      if (this.putters.size > 0) {
        const putter = this.putters.shift();
        this.buffer.push(putter.item); // the freed slot goes to the head putter at once
        putter.resolve();
      }
      return Promise.resolve(item);
    }
    return new Promise<T>((resolve) => this.getters.push(resolve));
  }
}
