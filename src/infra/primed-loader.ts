import DataLoader from 'dataloader';

/**
 * A DataLoader whose primed values can be read at once: a page read with its children primes the
 * loaders of its nested fields (see the `investigations` resolver), and answering those fields
 * with the value itself rather than a promise of it spares a promise, a microtask and the
 * executor's asynchronous path per field and parent.
 */
export class PrimedLoader<K, V> extends DataLoader<K, V> {
  private readonly primed = new Map<K, V>();

  override prime(key: K, value: V | Error): this {
    if (!(value instanceof Error) && !this.primed.has(key)) this.primed.set(key, value);
    return super.prime(key, value);
  }

  override clear(key: K): this {
    this.primed.delete(key);
    return super.clear(key);
  }

  override clearAll(): this {
    this.primed.clear();
    return super.clearAll();
  }

  /** The value itself when it was primed, else what `load` gives. */
  get(key: K): V | Promise<V> {
    return this.primed.has(key) ? this.primed.get(key)! : this.load(key);
  }
}
