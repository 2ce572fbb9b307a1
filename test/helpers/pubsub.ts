import type { QueueLimit } from '../../src/infra/bounded-queue';

/** A queue limit for tests that read a pub/sub topic directly: generous, and overflow is a test failure. */
export const TEST_QUEUE: QueueLimit = {
  maxQueue: 100_000,
  onOverflow: () => {
    throw new Error('a test subscription overflowed');
  },
};
