import type { Context } from '../context';
import type { QueueLimit } from '../infra/bounded-queue';
import { VigilCloseCode } from '../infra/websocket';

/**
 * The queue limit every subscription source gets from its resolver: at most
 * `protection.wsMaxQueue` (runtime setting, `VIGIL_WS_MAX_QUEUE` at boot) events may wait for the client; one more closes its websocket with 4008
 * ("subscriber too slow"), after which it may reconnect (and resume alerts with `after`).
 */
export function subscriberQueue(ctx: Context): QueueLimit {
  // The limit in force when the subscription opens (a runtime setting); open ones keep theirs.
  const maxQueue = ctx.services.settings.values.protection.wsMaxQueue;
  return {
    maxQueue,
    onOverflow: () => {
      ctx.logger.warn({ maxQueue }, 'subscriber too slow: closing its connection');
      ctx.services.metrics.wsSlowSubscribers.inc();
      ctx.closeConnection?.(VigilCloseCode.SubscriberTooSlow, 'subscriber too slow');
    },
  };
}
