import type { CircuitBreaker } from '../infra/circuit-breaker';
import type { Redis } from '../infra/redis';
import { ResilientLimiter } from '../protection/resilient-limiter';
import type { EdgeSettings } from './settings';

/**
 * Every limiter of the gateway. Each accessor reads the current settings: when a limit changes at
 * run time the next request is counted against the new figure (a limiter per figure is kept;
 * through Redis they share the same counters, keyed by the limiter's name).
 */
export interface RateLimiters {
  enabled(): boolean;
  /** Requests per client IP without a valid token. */
  anonymous(): ResilientLimiter;
  /** Requests per signed-in user, by role (the user limit when a role has no override). */
  forRole(role: string): ResilientLimiter;
  /** Sign-in attempts per IP and normalised email. */
  login(): ResilientLimiter;
  /** Operation cost per user or anonymous IP. */
  costBudget(): ResilientLimiter;
  /** Subscribe messages per websocket connection (in-process: a connection lives on one instance). */
  wsSubscribe(): ResilientLimiter;
}

/**
 * Builds the limiters, shared through Redis (behind `breaker`) when configured. `onRefused` hears
 * every refusal with the limiter's scope (`ip`, `user`, `user-<ROLE>`, `login`, `cost`,
 * `ws-subscribe`): `vigil_rate_limited_requests_total{scope}`.
 */
export function createRateLimiters(
  settings: () => EdgeSettings,
  redisPrefix: string,
  redis?: Redis,
  breaker?: CircuitBreaker,
  onRefused?: (scope: string) => void,
): RateLimiters {
  const made = new Map<string, ResilientLimiter>();
  const limiter = (name: string, points: number, durationSeconds: number, shared = true): ResilientLimiter => {
    const key = `${name}:${points}:${durationSeconds}`;
    let found = made.get(key);
    if (!found) {
      found = new ResilientLimiter({ name, points, durationSeconds, ...(shared ? { redis, redisPrefix, breaker } : {}) });
      if (onRefused) {
        const consume = found.consume.bind(found);
        found.consume = async (k, cost) => {
          const decision = await consume(k, cost);
          if (!decision.allowed) onRefused(name);
          return decision;
        };
      }
      made.set(key, found);
    }
    return found;
  };
  const rl = () => settings().rateLimit;
  return {
    enabled: () => rl().enabled,
    anonymous: () => limiter('ip', rl().anonymous, rl().windowSeconds),
    forRole: (role) => {
      const override = rl().roles[role];
      return override ? limiter(`user-${role}`, override, rl().windowSeconds) : limiter('user', rl().user, rl().windowSeconds);
    },
    login: () => limiter('login', rl().login, rl().loginWindowSeconds),
    costBudget: () => limiter('cost', settings().costBudget.points, settings().costBudget.windowSeconds),
    wsSubscribe: () => limiter('ws-subscribe', rl().wsSubscribe, rl().windowSeconds, false),
  };
}
