import { BreakerOpenError, BreakerTimeoutError, CircuitBreaker } from '../../src/infra/circuit-breaker';

describe('CircuitBreaker', () => {
  let now = 0;
  const clock = () => now;
  const failing = () => Promise.reject(new Error('connection refused'));
  const ok = () => Promise.resolve('ok');

  beforeEach(() => {
    now = 1_000;
  });

  it('opens after the configured number of consecutive failures and then fails fast without calling', async () => {
    const breaker = new CircuitBreaker({ name: 'redis', failureThreshold: 3, cooldownMs: 1000, now: clock });
    for (let i = 0; i < 3; i++) await expect(breaker.call(failing)).rejects.toThrow('connection refused');
    expect(breaker.state).toBe('OPEN');
    const fn = jest.fn(ok);
    await expect(breaker.call(fn)).rejects.toBeInstanceOf(BreakerOpenError);
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.available).toBe(false);
  });

  it('a success in between resets the count of consecutive failures', async () => {
    const breaker = new CircuitBreaker({ name: 'redis', failureThreshold: 2, now: clock });
    await expect(breaker.call(failing)).rejects.toThrow();
    await breaker.call(ok);
    await expect(breaker.call(failing)).rejects.toThrow();
    expect(breaker.state).toBe('CLOSED');
  });

  it('lets one trial call through after the cool-down: success closes, failure reopens', async () => {
    const breaker = new CircuitBreaker({ name: 'redis', failureThreshold: 1, cooldownMs: 1000, now: clock });
    await expect(breaker.call(failing)).rejects.toThrow();
    now += 1000;
    expect(breaker.state).toBe('HALF_OPEN');
    await expect(breaker.call(failing)).rejects.toThrow('connection refused');
    expect(breaker.state).toBe('OPEN');
    now += 1000;
    await expect(breaker.call(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('CLOSED');
  });

  it('counts a call slower than the call timeout as a failure', async () => {
    const breaker = new CircuitBreaker({ name: 'redis', failureThreshold: 1, callTimeoutMs: 20, now: clock });
    const never = () => new Promise<never>(() => undefined);
    await expect(breaker.call(never)).rejects.toBeInstanceOf(BreakerTimeoutError);
    expect(breaker.state).toBe('OPEN');
  });

  it('does not count errors the caller marks as answers (a limiter saying "limited")', async () => {
    const breaker = new CircuitBreaker({ name: 'redis', failureThreshold: 1, now: clock });
    const limited = { msBeforeNext: 1000 };
    await expect(breaker.call(() => Promise.reject(limited), (e) => e !== limited)).rejects.toBe(limited);
    expect(breaker.state).toBe('CLOSED');
  });
});
