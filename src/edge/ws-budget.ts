import { RateLimitedError, ServiceUnavailableError } from '../errors';
import type { SecurityEventRecorder } from '../protection/security-events';
import { refusal, type Refusal } from './errors';
import { callerMeta, type Caller } from './request';
import type { EdgeSettingsSource } from './settings';

/** Seconds a client is told to wait before subscribing again after a budget refusal. */
const RETRY_AFTER_SECONDS = 30;

function count(map: Map<string, number>, key: string, delta: number): number {
  const next = (map.get(key) ?? 0) + delta;
  if (next > 0) map.set(key, next);
  else map.delete(key);
  return next;
}

/**
 * The websocket budgets of one instance (a connection lives on one instance): open connections
 * per client IP and per signed-in user, live operations per connection, and no new subscription
 * while the memory health component is DOWN. Limits are read from the settings on every decision.
 * Counters are removed when they fall to zero, so closed connections leave nothing behind.
 */
export class WebsocketBudget {
  private readonly perIp = new Map<string, number>();
  private readonly perUser = new Map<string, number>();
  private memoryDown = false;

  constructor(
    private readonly settings: EdgeSettingsSource,
    private readonly record: SecurityEventRecorder,
  ) {}

  /** Follows the memory component of the health monitor. */
  setMemoryDown(down: boolean): void {
    this.memoryDown = down;
  }

  /** Takes a connection slot of `ip`; false (nothing taken) when the IP already holds its maximum. */
  openConnection(caller: Caller): boolean {
    const max = this.settings().websocket.maxConnectionsPerIp;
    if ((this.perIp.get(caller.ip) ?? 0) >= max) {
      this.record(callerMeta(caller), { action: 'RATE_LIMITED', reason: `more than ${max} websocket connections (IP)` });
      return false;
    }
    count(this.perIp, caller.ip, 1);
    return true;
  }

  closeConnection(ip: string): void {
    count(this.perIp, ip, -1);
  }

  /** Takes a connection slot of the signed-in user; false when the user already holds the maximum. */
  openUserConnection(caller: Caller, userId: string): boolean {
    const max = this.settings().websocket.maxConnectionsPerUser;
    if ((this.perUser.get(userId) ?? 0) >= max) {
      this.record(callerMeta(caller), { action: 'RATE_LIMITED', reason: `more than ${max} websocket connections (user)` });
      return false;
    }
    count(this.perUser, userId, 1);
    return true;
  }

  closeUserConnection(userId: string): void {
    count(this.perUser, userId, -1);
  }

  /**
   * Whether one more operation may start on a connection already running `live` others:
   * RATE_LIMITED (`reason: subscriptions-per-connection`) past the per-connection maximum, and
   * SERVICE_UNAVAILABLE (`reason: memory`) for a new subscription while memory is DOWN.
   */
  admitOperation(caller: Caller, kind: 'query' | 'mutation' | 'subscription', live: number): Refusal | null {
    if (kind === 'subscription' && this.memoryDown) {
      this.record(callerMeta(caller), { action: 'SUBSCRIPTION_REFUSED', reason: 'memory is DOWN' });
      const error = new ServiceUnavailableError('The gateway is short of memory and takes no new subscriptions now; retry later');
      Object.assign(error.extensions, { reason: 'memory', retryAfter: RETRY_AFTER_SECONDS });
      return refusal(error, 503, caller.requestId, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    }
    const max = this.settings().websocket.maxSubscriptionsPerConnection;
    if (live >= max) {
      this.record(callerMeta(caller), { action: 'RATE_LIMITED', reason: `more than ${max} live operations on one websocket connection` });
      const error = new RateLimitedError(RETRY_AFTER_SECONDS, `At most ${max} subscriptions may run on one connection`);
      Object.assign(error.extensions, { reason: 'subscriptions-per-connection', limit: max });
      return refusal(error, 429, caller.requestId, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    }
    return null;
  }
}
