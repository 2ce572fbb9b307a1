import { levelAtLeast, levelsAtLeast, AlertLevel } from '../../src/entities/alert.entity';
import { signWebhook, verifyWebhookSignature } from '../../src/services/alerts/alert-channels';
import { defaultFingerprint } from '../../src/services/alerts/alert.service';
import { BoundedQueue } from '../../src/infra/bounded-queue';

describe('BoundedQueue', () => {
  it('hands values to a waiting consumer in order', async () => {
    const queue = new BoundedQueue<number>({ maxQueue: 2, onOverflow: () => undefined });
    const first = queue.next();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(await queue.next()).toEqual({ value: 3, done: false });
  });

  it('calls onOverflow once when more than `limit` values wait, then ends', async () => {
    const overflow = jest.fn();
    const queue = new BoundedQueue<number>({ maxQueue: 2, onOverflow: overflow });
    for (let i = 0; i < 5; i++) queue.push(i);
    expect(overflow).toHaveBeenCalledTimes(1);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('ends a pending next() when returned, so an idle consumer can leave at once', async () => {
    const queue = new BoundedQueue<number>({ maxQueue: 2, onOverflow: () => undefined });
    const pending = queue.next();
    await queue.return();
    expect(await pending).toEqual({ value: undefined, done: true });
  });
});

describe('webhook signatures', () => {
  it('are sha256=<hex HMAC> over "<timestamp>.<body>" and verify only the exact body, timestamp and secret', () => {
    const signature = signWebhook('s3cret-s3cret-s3cret', '1700000000', '{"a":1}');
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', '1700000000', '{"a":1}', signature)).toBe(true);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', '1700000001', '{"a":1}', signature)).toBe(false);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', '1700000000', '{"a":2}', signature)).toBe(false);
    expect(verifyWebhookSignature('another-secret-value', '1700000000', '{"a":1}', signature)).toBe(false);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', '1700000000', '{"a":1}', 'sha256=short')).toBe(false);
  });
});

describe('alert levels and fingerprints', () => {
  it('orders levels INFO < WARNING < ERROR < CRITICAL', () => {
    expect(levelsAtLeast(AlertLevel.ERROR)).toEqual([AlertLevel.ERROR, AlertLevel.CRITICAL]);
    expect(levelAtLeast(AlertLevel.WARNING, AlertLevel.INFO)).toBe(true);
    expect(levelAtLeast(AlertLevel.WARNING, AlertLevel.ERROR)).toBe(false);
  });

  it('derives the default fingerprint from source and title only', () => {
    expect(defaultFingerprint('api', 'disk full')).toBe(defaultFingerprint('api', 'disk full'));
    expect(defaultFingerprint('api', 'disk full')).not.toBe(defaultFingerprint('health', 'disk full'));
    expect(defaultFingerprint('a\nb', 'c')).not.toBe(defaultFingerprint('a', 'b\nc'));
  });
});
