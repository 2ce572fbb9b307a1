import type { ProtectionConfig } from '../config';
import type { CircuitBreaker } from '../infra/circuit-breaker';
import type { Redis } from '../infra/redis';
import { ResilientLimiter } from './resilient-limiter';

/** Every limiter of the gateway, built once per server. */
export interface RateLimiters {
  enabled: boolean;
  /** Requests per client IP without a token. */
  anonymous: ResilientLimiter;
  /** Requests per signed-in user, by role (`user` when a role has no override). */
  forRole(role: string): ResilientLimiter;
  /** Sign-in attempts per IP and email. */
  login: ResilientLimiter;
  /** Operation cost per user or anonymous IP. */
  costBudget: ResilientLimiter;
  /** Subscribe messages per websocket connection (in-process: a connection lives on one instance). */
  wsSubscribe: ResilientLimiter;
}

/** Builds the limiters from configuration, shared through Redis (behind `breaker`) when configured. */
export function createRateLimiters(config: ProtectionConfig, redisPrefix: string, redis?: Redis, breaker?: CircuitBreaker): RateLimiters {
  const rl = config.rateLimit;
  const shared = { redis, redisPrefix, breaker };
  const user = new ResilientLimiter({ name: 'user', points: rl.user, durationSeconds: rl.windowSeconds, ...shared });
  const byRole = new Map<string, ResilientLimiter>();
  for (const [role, points] of Object.entries(rl.roles)) {
    if (points) byRole.set(role, new ResilientLimiter({ name: `user-${role}`, points, durationSeconds: rl.windowSeconds, ...shared }));
  }
  return {
    enabled: rl.enabled,
    anonymous: new ResilientLimiter({ name: 'ip', points: rl.anonymous, durationSeconds: rl.windowSeconds, ...shared }),
    forRole: (role) => byRole.get(role) ?? user,
    login: new ResilientLimiter({ name: 'login', points: rl.login, durationSeconds: rl.loginWindowSeconds, ...shared }),
    costBudget: new ResilientLimiter({
      name: 'cost',
      points: config.costBudget.points,
      durationSeconds: config.costBudget.windowSeconds,
      ...shared,
    }),
    wsSubscribe: new ResilientLimiter({ name: 'ws-subscribe', points: rl.wsSubscribe, durationSeconds: rl.windowSeconds }),
  };
}
