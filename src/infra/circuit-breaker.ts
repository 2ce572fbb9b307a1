import type { Logger } from './logger';

/** The breaker's state: CLOSED calls through, OPEN fails fast, HALF_OPEN lets one trial call through. */
export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface CircuitBreakerOptions {
  /** Name in logs, e.g. `redis`. */
  name: string;
  /**
   * Consecutive failures that open the breaker.
   * @default 5
   */
  failureThreshold?: number;
  /**
   * How long an open breaker fails fast before it lets a trial call through.
   * @default 10_000 // 10 seconds
   */
  cooldownMs?: number;
  /**
   * A call slower than this counts as a failure (its result is then ignored).
   * @default 500
   */
  callTimeoutMs?: number;
  logger?: Logger;
  /** The clock; tests may move it. */
  now?: () => number;
}

/** Thrown instead of calling a dependency while its breaker is open. */
export class BreakerOpenError extends Error {
  override name = 'BreakerOpenError';
  constructor(readonly breaker: string) {
    super(`${breaker} is unavailable (circuit open)`);
  }
}

/** Thrown when a guarded call takes longer than `callTimeoutMs`. */
export class BreakerTimeoutError extends Error {
  override name = 'BreakerTimeoutError';
  constructor(readonly breaker: string, readonly timeoutMs: number) {
    super(`${breaker} did not answer within ${timeoutMs} ms`);
  }
}

/**
 * Guards calls to an optional dependency (Redis): after `failureThreshold` consecutive failures
 * or timeouts the breaker opens and every call fails at once with {@link BreakerOpenError} for
 * `cooldownMs`, so callers take their degraded path (in-process limiter, no cache) instead of
 * waiting on a dead connection. After the cool-down one trial call decides: success closes it,
 * failure opens it for another cool-down.
 */
export class CircuitBreaker {
  readonly name: string;
  private readonly failureThreshold: number;
  private readonly cooldownMs: number;
  private readonly callTimeoutMs: number;
  private readonly logger?: Logger;
  private readonly now: () => number;
  private failures = 0;
  private openedAt = 0;
  private current: BreakerState = 'CLOSED';
  private trialInFlight = false;

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    this.failureThreshold = options.failureThreshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 10_000;
    this.callTimeoutMs = options.callTimeoutMs ?? 500;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
  }

  /** The state as of now (an open breaker past its cool-down reads HALF_OPEN). */
  get state(): BreakerState {
    if (this.current === 'OPEN' && this.now() - this.openedAt >= this.cooldownMs) return 'HALF_OPEN';
    return this.current;
  }

  /** True when a call would go through rather than fail fast. */
  get available(): boolean {
    const state = this.state;
    return state === 'CLOSED' || (state === 'HALF_OPEN' && !this.trialInFlight);
  }

  /**
   * Runs `fn` under the breaker.
   * @throws {BreakerOpenError} without calling `fn` while open.
   * @throws {BreakerTimeoutError} when `fn` is slower than `callTimeoutMs`.
   * Errors `isFailure` rejects (e.g. a rate limiter's "limited" answer) pass through without counting.
   */
  async call<T>(fn: () => Promise<T>, isFailure: (error: unknown) => boolean = () => true): Promise<T> {
    const state = this.state;
    if (state === 'OPEN' || (state === 'HALF_OPEN' && this.trialInFlight)) throw new BreakerOpenError(this.name);
    const trial = state === 'HALF_OPEN';
    if (trial) this.trialInFlight = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new BreakerTimeoutError(this.name, this.callTimeoutMs)), this.callTimeoutMs);
          timer.unref();
        }),
      ]);
      this.onSuccess();
      return result;
    } catch (error) {
      if (error instanceof BreakerTimeoutError || isFailure(error)) this.onFailure(error);
      else this.onSuccess();
      throw error;
    } finally {
      clearTimeout(timer);
      if (trial) this.trialInFlight = false;
    }
  }

  private onSuccess(): void {
    if (this.current !== 'CLOSED') this.logger?.info({ breaker: this.name }, 'circuit closed: dependency answers again');
    this.current = 'CLOSED';
    this.failures = 0;
  }

  private onFailure(error: unknown): void {
    this.failures += 1;
    const reopen = this.current === 'OPEN';
    if (reopen || this.failures >= this.failureThreshold) {
      if (!reopen) {
        this.logger?.warn(
          { breaker: this.name, failures: this.failures, err: error instanceof Error ? error.message : String(error) },
          'circuit opened: failing fast and degrading',
        );
      }
      this.current = 'OPEN';
      this.openedAt = this.now();
    }
  }
}
