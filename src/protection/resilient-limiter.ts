import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { CircuitBreaker } from '../infra/circuit-breaker';
import type { Redis } from '../infra/redis';

/** The answer of a limiter to one request. */
export interface LimitDecision {
  allowed: boolean;
  /** Seconds until the window frees enough points (at least 1 when refused). */
  retryAfterSeconds: number;
  remaining: number;
  /** Points used in the current window, this request included. */
  consumed: number;
  limit: number;
  /** True for the request that first went over the limit in this window (worth one security event). */
  firstRejection: boolean;
}

export interface ResilientLimiterOptions {
  /** Part of the key, e.g. `ip` or `login`. */
  name: string;
  points: number;
  durationSeconds: number;
  /** Shared store; absent: in-process only. */
  redis?: Redis;
  /** Prefix of Redis keys (`config.redisPrefix`). */
  redisPrefix?: string;
  /** Guards the Redis store; while it is open the in-process limiter decides. */
  breaker?: CircuitBreaker;
}

/**
 * A rate-limiter-flexible limiter shared through Redis when configured, with an in-process
 * limiter of the same shape as fallback: when Redis fails, is not ready, or its circuit breaker is
 * open, the instance keeps limiting on its own instead of letting everything through or stalling.
 */
export class ResilientLimiter {
  readonly points: number;
  private readonly memory: RateLimiterMemory;
  private readonly shared?: RateLimiterRedis;
  private readonly breaker?: CircuitBreaker;

  constructor(options: ResilientLimiterOptions) {
    this.points = options.points;
    this.memory = new RateLimiterMemory({ keyPrefix: options.name, points: options.points, duration: options.durationSeconds });
    if (options.redis) {
      this.shared = new RateLimiterRedis({
        storeClient: options.redis,
        keyPrefix: `${options.redisPrefix ?? ''}rl:${options.name}`,
        points: options.points,
        duration: options.durationSeconds,
        rejectIfRedisNotReady: true,
      });
      this.breaker = options.breaker;
    }
  }

  /** Takes `cost` points for `key`; never throws. */
  async consume(key: string, cost = 1): Promise<LimitDecision> {
    const shared = this.shared;
    if (shared && (!this.breaker || this.breaker.available)) {
      try {
        const run = () => shared.consume(key, cost);
        const result = this.breaker ? await this.breaker.call(run, (e) => !(e instanceof RateLimiterRes)) : await run();
        return this.decision(result, cost, true);
      } catch (error) {
        if (error instanceof RateLimiterRes) return this.decision(error, cost, false);
      }
    }
    try {
      return this.decision(await this.memory.consume(key, cost), cost, true);
    } catch (error) {
      if (error instanceof RateLimiterRes) return this.decision(error, cost, false);
      throw error;
    }
  }

  private decision(res: RateLimiterRes, cost: number, allowed: boolean): LimitDecision {
    return {
      allowed,
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
      remaining: res.remainingPoints,
      consumed: res.consumedPoints,
      limit: this.points,
      firstRejection: !allowed && res.consumedPoints - cost <= this.points,
    };
  }
}
