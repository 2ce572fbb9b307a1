import type { CircuitBreaker } from './circuit-breaker';
import type { Logger } from './logger';
import type { Redis } from './redis';

/** Apollo's `KeyValueCache<string>` shape (from `@apollo/utils.keyvaluecache`), as APQ uses it. */
export interface StringKeyValueCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: { ttl?: number | null }): Promise<void>;
  delete(key: string): Promise<boolean | void>;
}

/**
 * Apollo's `KeyValueCache` over ioredis, shared by every instance. Calls go through a circuit
 * breaker and a failure is a cache miss, never an error: while Redis is away, automatic
 * persisted queries cost clients one extra round trip (they resend the full document) and
 * nothing else.
 */
export class RedisKeyValueCache implements StringKeyValueCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly breaker: CircuitBreaker,
    private readonly logger: Logger,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      const value = await this.breaker.call(() => this.redis.get(this.prefix + key));
      return value ?? undefined;
    } catch (error) {
      this.logger.debug({ err: error instanceof Error ? error.message : error }, 'cache read skipped');
      return undefined;
    }
  }

  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    try {
      const ttl = options?.ttl;
      await this.breaker.call(() =>
        ttl ? this.redis.set(this.prefix + key, value, 'EX', Math.ceil(ttl)) : this.redis.set(this.prefix + key, value),
      );
    } catch (error) {
      this.logger.debug({ err: error instanceof Error ? error.message : error }, 'cache write skipped');
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return (await this.breaker.call(() => this.redis.del(this.prefix + key))) > 0;
    } catch {
      return false;
    }
  }
}
