import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import type { TypedEventListenerOrEventListenerObject, TypedEventTarget } from '@graphql-yoga/typed-event-target';
import type { Redis } from 'ioredis';

/**
 * Cluster-wide events. Payloads cross Redis as JSON, so they are plain data (ids, strings,
 * ISO dates), never entities: subscribers load what they show with a fresh EntityManager.
 */
export type VigilPubSub = PubSub<Record<string, [unknown] | [string, unknown]>>;

type Listener = TypedEventListenerOrEventListenerObject<CustomEvent>;

/** Prefixes every channel so several deployments (or test runs) can share one Redis. */
function prefixed(inner: TypedEventTarget<CustomEvent>, prefix: string): TypedEventTarget<CustomEvent> {
  const wrappers = new Map<Listener, (event: CustomEvent) => void>();
  const wrap = (listener: Listener) => {
    let wrapped = wrappers.get(listener);
    if (!wrapped) {
      wrapped = (event: CustomEvent) => {
        const local = new CustomEvent(event.type.slice(prefix.length), { detail: event.detail });
        if (typeof listener === 'function') listener(local);
        else listener.handleEvent(local);
      };
      wrappers.set(listener, wrapped);
    }
    return wrapped;
  };
  const target = new EventTarget() as TypedEventTarget<CustomEvent>;
  target.addEventListener = (type: string, listener: Listener | null) => {
    if (listener) inner.addEventListener(prefix + type, wrap(listener));
  };
  target.removeEventListener = (type: string, listener: Listener | null) => {
    if (!listener) return;
    const wrapped = wrappers.get(listener);
    if (wrapped) {
      inner.removeEventListener(prefix + type, wrapped);
      wrappers.delete(listener);
    }
  };
  target.dispatchEvent = (event: CustomEvent) =>
    inner.dispatchEvent(new CustomEvent(prefix + event.type, { detail: event.detail }));
  return target;
}

/**
 * The pub/sub that carries subscription events: through Redis when configured (every instance sees
 * every event), in-process otherwise.
 */
export function createVigilPubSub(redis?: { publish: Redis; subscribe: Redis; prefix: string }): VigilPubSub {
  if (!redis) return createPubSub();
  // The event target drops the promises of PUBLISH/SUBSCRIBE; while Redis is away ioredis rejects
  // them, and an unhandled rejection would end the process. A lost event is the lesser harm.
  const ignore = () => 0;
  const publishClient = { publish: (channel: string, message: string) => redis.publish.publish(channel, message).catch(ignore) };
  const subscribeClient = {
    on: (event: 'message', listener: (channel: string, message: string) => void) => redis.subscribe.on(event, listener),
    subscribe: (channel: string) => redis.subscribe.subscribe(channel).catch(ignore),
    unsubscribe: (channel: string) => redis.subscribe.unsubscribe(channel).catch(ignore),
  };
  const target = createRedisEventTarget<CustomEvent>({
    publishClient: publishClient as unknown as Redis,
    subscribeClient: subscribeClient as unknown as Redis,
  });
  return createPubSub({ eventTarget: prefixed(target, redis.prefix) });
}
