import { randomUUID } from 'node:crypto';
import type { CircuitBreaker } from '../infra/circuit-breaker';
import type { Logger } from '../infra/logger';
import type { Redis } from '../infra/redis';

/**
 * Takes a slot when fewer than ARGV[1] live members are in the sorted set KEYS[1]: members whose
 * lease ran out (an instance that died) are dropped first. Scores are lease ends in Redis's own
 * clock, so instances with skewed clocks agree. Returns 1 when taken, 0 when full.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[2])
redis.call('PEXPIRE', KEYS[1], lease * 2)
return 1
`;

/** Extends the leases of members still held: KEYS are sets, ARGV[1] the lease, ARGV[i+1] the member in KEYS[i]. */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + lease, ARGV[i + 1])
  redis.call('PEXPIRE', key, lease * 2)
end
return #KEYS
`;

/** Slots renewed per script call. */
const RENEW_BATCH = 500;

type Scripted = Redis & {
  vigilWsAcquire(key: string, max: number, member: string, leaseMs: number): Promise<number>;
  vigilWsRenew(...args: (string | number)[]): Promise<number>;
};

export interface SharedCountOptions {
  redis: Redis;
  /** Key prefix of this deployment (`VIGIL_REDIS_PREFIX`). */
  prefix: string;
  /** Guards the calls: while Redis is away, callers fall back to their own count at once. */
  breaker: CircuitBreaker;
  logger: Logger;
  /**
   * How long a slot outlives an instance that stopped renewing it (killed), in milliseconds.
   * @default 30_000
   */
  leaseMs?: number;
}

/** A slot taken in the shared count; `release` gives it back (once). */
export interface SharedSlot {
  release(): void;
}

/**
 * Counts open websocket connections per key (an IP, a user) across every instance that shares
 * Redis: each slot is a member of a sorted set scored by its lease end, renewed while the
 * connection lives, removed when it closes, and dropped by the next caller once its lease ran out
 * if the instance holding it died. `acquire` rejects while Redis is unavailable; the caller then
 * counts on its own instance only.
 */
export class SharedConnectionCount {
  private readonly redis: Scripted;
  private readonly leaseMs: number;
  private readonly held = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: SharedCountOptions) {
    this.leaseMs = options.leaseMs ?? 30_000;
    const redis = options.redis as Scripted;
    if (typeof redis.vigilWsAcquire !== 'function') {
      redis.defineCommand('vigilWsAcquire', { numberOfKeys: 1, lua: ACQUIRE });
      redis.defineCommand('vigilWsRenew', { lua: RENEW });
    }
    this.redis = redis;
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  /** Takes a slot of `key` when fewer than `max` are held cluster-wide; null when full. */
  async acquire(key: string, max: number): Promise<SharedSlot | null> {
    const redisKey = `${this.options.prefix}ws:connections:${key}`;
    const member = randomUUID();
    const taken = await this.options.breaker.call(() => this.redis.vigilWsAcquire(redisKey, max, member, this.leaseMs));
    if (taken !== 1) return null;
    this.held.set(member, redisKey);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.held.delete(member);
        // Best effort: a slot not removed now runs out with its lease.
        this.redis.zrem(redisKey, member).catch((err: unknown) => this.options.logger.debug({ err }, 'could not give back a websocket slot; its lease runs out'));
      },
    };
  }

  /** Slots this instance holds. */
  get size(): number {
    return this.held.size;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    if (!this.held.size || !this.options.breaker.available) return;
    const held = [...this.held];
    try {
      for (let i = 0; i < held.length; i += RENEW_BATCH) {
        const batch = held.slice(i, i + RENEW_BATCH);
        await this.redis.vigilWsRenew(batch.length, ...batch.map(([, key]) => key), this.leaseMs, ...batch.map(([member]) => member));
      }
    } catch (err) {
      this.options.logger.warn({ err }, 'could not renew websocket connection slots in Redis');
    }
  }
}
