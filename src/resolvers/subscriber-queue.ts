import type { Context } from '../context';
import type { QueueLimit } from '../infra/bounded-queue';
import { VigilCloseCode } from '../infra/websocket';

/**
 * The queue limit every subscription source gets from its resolver: at most
 * `protection.wsMaxQueue` (runtime setting, `VIGIL_WS_MAX_QUEUE` at boot; a change applies to open
 * subscriptions too) events may wait for the client; one more closes its websocket with 4008
 * ("subscriber too slow"), after which it may reconnect (and resume alerts with `after`).
 */
export function subscriberQueue(ctx: Context): QueueLimit {
  const settings = ctx.services.settings;
  return {
    // Read on every push, so a changed setting applies to subscriptions already open.
    get maxQueue() {
      return settings.values.protection.wsMaxQueue;
    },
    onOverflow: () => {
      ctx.logger.warn({ maxQueue: settings.values.protection.wsMaxQueue }, 'subscriber too slow: closing its connection');
      ctx.services.metrics.wsSlowSubscribers.inc();
      ctx.closeConnection?.(VigilCloseCode.SubscriberTooSlow, 'subscriber too slow');
    },
  };
}
