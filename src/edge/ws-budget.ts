import { RateLimitedError, ServiceUnavailableError } from '../errors';
import type { SecurityEventRecorder } from '../protection/security-events';
import { refusal, type Refusal } from './errors';
import { callerMeta, type Caller } from './request';
import type { Logger } from '../infra/logger';
import type { EdgeSettingsSource } from './settings';
import type { SharedConnectionCount, SharedSlot } from './ws-shared-count';

/** Seconds a client is told to wait before subscribing again after a budget refusal. */
const RETRY_AFTER_SECONDS = 30;

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

function count(map: Map<string, number>, key: string, delta: number): number {
  const next = (map.get(key) ?? 0) + delta;
  if (next > 0) map.set(key, next);
  else map.delete(key);
  return next;
}

/** Gives a connection slot back (once). */
export type ReleaseSlot = () => void;

/**
 * The websocket budgets: open connections per client IP and per signed-in user — across every
 * instance that shares Redis, else per instance —, live operations per connection, and no new
 * subscription while the memory health component is DOWN. Limits are read from the settings on
 * every decision. While Redis is unavailable, connections are counted on this instance only (the
 * cap then holds per instance); local counters are removed when they fall to zero, so closed
 * connections leave nothing behind.
 */
export class WebsocketBudget {
  private readonly perIp = new Map<string, number>();
  private readonly perUser = new Map<string, number>();
  private memoryDown = false;
  private warnedUnshared = false;

  constructor(
    private readonly settings: EdgeSettingsSource,
    private readonly record: SecurityEventRecorder,
    private readonly shared?: SharedConnectionCount,
    private readonly logger?: Logger,
  ) {}

  /** Follows the memory component of the health monitor. */
  setMemoryDown(down: boolean): void {
    this.memoryDown = down;
  }

  /** Takes a connection slot of the caller's IP; null (nothing taken) when it already holds its maximum. */
  openConnection(caller: Caller): Promise<ReleaseSlot | null> {
    return this.take(caller, this.perIp, `ip:${caller.ip}`, caller.ip, this.settings().websocket.maxConnectionsPerIp, 'IP');
  }

  /** Takes a connection slot of the signed-in user; null when the user already holds the maximum. */
  openUserConnection(caller: Caller, userId: string): Promise<ReleaseSlot | null> {
    return this.take(caller, this.perUser, `user:${userId}`, userId, this.settings().websocket.maxConnectionsPerUser, 'user');
  }

  private async take(caller: Caller, local: Map<string, number>, sharedKey: string, key: string, max: number, what: string): Promise<ReleaseSlot | null> {
    const refuse = (): null => {
      this.record(callerMeta(caller), { action: 'RATE_LIMITED', reason: `more than ${max} websocket connections (${what})` });
      return null;
    };
    // This instance's own count first: it holds even while Redis does not answer.
    if ((local.get(key) ?? 0) >= max) return refuse();
    count(local, key, 1);
    const releaseLocal = once(() => count(local, key, -1));
    if (!this.shared) return releaseLocal;
    let slot: SharedSlot | null;
    try {
      slot = await this.shared.acquire(sharedKey, max);
      this.warnedUnshared = false;
    } catch (err) {
      if (!this.warnedUnshared) this.logger?.warn({ err }, 'Redis unavailable: websocket connections are counted per instance until it is back');
      this.warnedUnshared = true;
      return releaseLocal;
    }
    if (!slot) {
      releaseLocal();
      return refuse();
    }
    return once(() => {
      releaseLocal();
      slot.release();
    });
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
