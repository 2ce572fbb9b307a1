/**
 * How far one subscriber may fall behind. Every source that pushes events to a client
 * subscription (pub/sub topics, the alert feed, health changes, backup progress) takes one, so a
 * consumer that stops reading is cut off instead of growing memory or throwing inside the code
 * that pushes.
 */
export interface QueueLimit {
  /** Values that may wait for the consumer; one more ends the stream and calls `onOverflow`. */
  maxQueue: number;
  /** Called once, synchronously, when the consumer falls more than `maxQueue` behind. */
  onOverflow: () => void;
}

/**
 * An async iterator over pushed values that holds at most `limit.maxQueue` of them. `push` never
 * throws and never blocks, so it is safe inside any event listener; one push more than the limit
 * ends the iteration and calls `onOverflow` once (a consumer that cannot keep up is cut off).
 */
export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting?: (result: IteratorResult<T>) => void;
  private ended = false;
  private readonly onEnd: (() => void)[] = [];

  constructor(private readonly limit: QueueLimit) {}

  /** How many values wait for the consumer. */
  get size(): number {
    return this.items.length;
  }

  /** Whether the queue ended (returned, overflowed or ended by its source). */
  get done(): boolean {
    return this.ended;
  }

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.limit.maxQueue) {
      this.end();
      try {
        this.limit.onOverflow();
      } catch {
        // The overflow handler closes a connection; its failure must not reach the pushing code.
      }
      return;
    }
    this.items.push(item);
  }

  /** Registers a function to run once when the queue ends (e.g. to remove a listener). */
  whenEnded(fn: () => void): void {
    if (this.ended) fn();
    else this.onEnd.push(fn);
  }

  /** Ends the iteration; values still queued are dropped. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.items.length = 0;
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
    for (const fn of this.onEnd.splice(0)) {
      try {
        fn();
      } catch {
        // Cleanup of a listener cannot usefully fail the consumer.
      }
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
