import type { Redis } from 'ioredis';
import type { Logger } from './logger';
import type { VigilMetrics } from './metrics';

/** What `cacheStats` reports: counters since this instance started. */
export interface CacheStats {
  enabled: boolean;
  hits: number;
  misses: number;
  hitRatePercent: number;
  invalidations: number;
  redisConnected: boolean;
}

export interface CacheOptions {
  /** Shared layer when configured and connected; otherwise the in-process LRU serves alone. */
  redis?: Redis;
  /** Prefix of the Redis keys (`<prefix>cache:<key>`). */
  prefix: string;
  /** Entries the in-process LRU holds; 0 disables the cache (every read loads). */
  maxEntries: number;
  metrics?: VigilMetrics;
  logger: Logger;
}

interface LocalEntry {
  value: string;
  expiresAt: number;
}

/**
 * A small response/entity cache for hot reads (health facts shared by the instances, database
 * statistics …). Values are JSON: what comes back is plain data, never class instances or Dates.
 * With Redis connected every instance shares one copy; while Redis is absent or down the
 * in-process LRU takes over, so an outage costs freshness across instances, never availability.
 */
export class VigilCache {
  private readonly local = new Map<string, LocalEntry>();
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private hits = 0;
  private misses = 0;
  private invalidations = 0;

  constructor(private readonly options: CacheOptions) {}

  private get redisReady(): boolean {
    return this.options.redis?.status === 'ready';
  }

  private redisKey(key: string): string {
    return `${this.options.prefix}cache:${key}`;
  }

  /** The cached value, or undefined (a miss). */
  async get<T>(key: string): Promise<T | undefined> {
    if (this.options.maxEntries <= 0) return undefined;
    const layer = this.redisReady ? 'redis' : 'memory';
    let raw: string | null | undefined;
    if (layer === 'redis') {
      raw = await this.options.redis!.get(this.redisKey(key)).catch((error: unknown) => {
        this.options.logger.warn({ err: error, key }, 'cache read failed; using the in-process cache');
        return this.readLocal(key);
      });
    } else {
      raw = this.readLocal(key);
    }
    if (raw === null || raw === undefined) {
      this.misses++;
      this.options.metrics?.cacheMisses.inc({ layer });
      return undefined;
    }
    this.hits++;
    this.options.metrics?.cacheHits.inc({ layer });
    return JSON.parse(raw) as T;
  }

  /** Stores a JSON-serialisable value for `ttlMs`. */
  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    if (this.options.maxEntries <= 0 || ttlMs <= 0) return;
    const raw = JSON.stringify(value);
    this.writeLocal(key, raw, ttlMs);
    if (this.redisReady) {
      await this.options.redis!.set(this.redisKey(key), raw, 'PX', Math.ceil(ttlMs)).catch((error: unknown) => {
        this.options.logger.warn({ err: error, key }, 'cache write failed');
      });
    }
  }

  /**
   * The cached value, or `load()`'s result stored for `ttlMs`. Concurrent callers on this
   * instance share one load.
   */
  async getOrLoad<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
    const cached = await this.get<T>(key);
    if (cached !== undefined) return cached;
    const pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const loading = (async () => {
      try {
        const value = await load();
        await this.set(key, value, ttlMs);
        return JSON.parse(JSON.stringify(value ?? null)) as T;
      } finally {
        this.inFlight.delete(key);
      }
    })();
    this.inFlight.set(key, loading);
    return loading;
  }

  /** Drops a key everywhere (this instance and Redis). */
  async invalidate(key: string): Promise<void> {
    this.invalidations++;
    this.local.delete(key);
    if (this.redisReady) {
      await this.options.redis!.del(this.redisKey(key)).catch((error: unknown) => {
        this.options.logger.warn({ err: error, key }, 'cache invalidation failed');
      });
    }
  }

  stats(): CacheStats {
    const total = this.hits + this.misses;
    return {
      enabled: this.options.maxEntries > 0,
      hits: this.hits,
      misses: this.misses,
      hitRatePercent: total ? Math.round((this.hits / total) * 10_000) / 100 : 0,
      invalidations: this.invalidations,
      redisConnected: this.redisReady,
    };
  }

  private readLocal(key: string): string | undefined {
    const entry = this.local.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.local.delete(key);
      return undefined;
    }
    // Re-insert so the Map's insertion order stays least-recently-used first.
    this.local.delete(key);
    this.local.set(key, entry);
    return entry.value;
  }

  private writeLocal(key: string, value: string, ttlMs: number): void {
    this.local.delete(key);
    this.local.set(key, { value, expiresAt: Date.now() + ttlMs });
    while (this.local.size > this.options.maxEntries) {
      const oldest = this.local.keys().next().value as string;
      this.local.delete(oldest);
    }
  }
}
