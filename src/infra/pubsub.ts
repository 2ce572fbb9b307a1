import type { Redis } from 'ioredis';
import { BoundedQueue, type QueueLimit } from './bounded-queue';
import type { Logger } from './logger';

export type { QueueLimit } from './bounded-queue';

/** Called with each payload of a topic; what it throws or rejects is logged, never propagated. */
export type TopicHandler<T = unknown> = (payload: T) => unknown;

/** What {@link VigilPubSub.onResume} listeners learn about the outage that just ended. */
export interface PubSubResume {
  /** When the channel subscriptions were last known to be in place (or when the pub/sub started). */
  lostAt: Date;
}

/**
 * Cluster-wide events. Payloads cross Redis as JSON, so they are plain data (ids, strings,
 * ISO dates), never entities: subscribers load what they show with a fresh EntityManager.
 *
 * Through Redis, channel subscriptions are retried until Redis answers and re-established after
 * every outage, whenever the instance started or the first listener came. What was published while
 * they were down is lost: {@link VigilPubSub.onResume} tells the areas whose events travel only by
 * pub/sub to catch up from PostgreSQL.
 */
export interface VigilPubSub {
  /** Publishes to every instance's listeners of `topic` (never throws; a lost event is logged). */
  publish(topic: string, payload: unknown): void;
  /** Publishes on the per-id topic `topic:id`. */
  publish(topic: string, id: string, payload: unknown): void;
  /**
   * A client subscription to `topic` (or `topic:id`): a bounded queue that ends, calling
   * `limit.onOverflow`, when its consumer falls `limit.maxQueue` events behind.
   */
  subscribe<T = unknown>(topic: string, id: string | undefined, limit: QueueLimit): AsyncIterableIterator<T>;
  /**
   * Calls `handler` with each payload of `topic`, for the gateway's own consumers. A handler that
   * throws or rejects is logged; other handlers and the transport carry on. Returns the unsubscribe.
   */
  listen<T = unknown>(topic: string, handler: TopicHandler<T>): () => void;
  /** Calls `listener` each time channel subscriptions are back after an outage. Returns the unsubscribe. */
  onResume(listener: (resume: PubSubResume) => unknown): () => void;
  /** Whether channel subscriptions are in place now (always true in process). */
  readonly connected: boolean;
  /** Stops retrying; listeners stay registered but hear nothing more. */
  close(): void;
}

/** The wire between instances: in process, or Redis channels that heal. */
interface Transport {
  publish(channel: string, payload: unknown): void;
  add(channel: string): void;
  remove(channel: string): void;
  readonly connected: boolean;
  close(): void;
}

export interface RedisPubSubClients {
  publish: Redis;
  /** A connection of its own: a subscribed Redis connection can do nothing else. */
  subscribe: Redis;
  /** Prefixes every channel so several deployments (or test runs) can share one Redis. */
  prefix: string;
}

export interface PubSubOptions {
  /** Logs contained listener failures and lost publications. */
  logger?: Logger;
  /**
   * First delay before channel subscriptions are tried again after a failure; it doubles up to
   * `maxRetryMs`.
   * @default 100
   */
  retryMs?: number;
  /** @default 2_000 */
  maxRetryMs?: number;
}

type Deliver = (channel: string, payload: unknown) => void;

/**
 * Channel subscriptions on a dedicated Redis connection that keep up with the wanted set: every
 * channel a listener needs is subscribed as soon as the connection is ready, and all of them again
 * each time it becomes ready after a loss, retried with backoff until Redis accepts. ioredis's own
 * resubscription only remembers channels whose SUBSCRIBE succeeded, so a channel first wanted
 * during an outage would stay deaf.
 */
class RedisTransport implements Transport {
  private readonly wanted = new Set<string>();
  private synced = false;
  private retry?: NodeJS.Timeout;
  private delay: number;
  private closed = false;
  private lostAt = new Date();
  private generation = 0;

  constructor(
    private readonly clients: RedisPubSubClients,
    private readonly deliver: Deliver,
    private readonly resumed: (resume: PubSubResume) => void,
    private readonly options: Required<Pick<PubSubOptions, 'retryMs' | 'maxRetryMs'>> & { logger?: Logger },
  ) {
    this.delay = options.retryMs;
    const subscriber = clients.subscribe;
    subscriber.on('message', (channel: string, message: string) => {
      if (!channel.startsWith(clients.prefix)) return;
      let payload: unknown;
      try {
        payload = message === '' ? null : JSON.parse(message);
      } catch (err) {
        this.options.logger?.warn({ err, channel }, 'pub/sub message is not JSON; dropped');
        return;
      }
      this.deliver(channel.slice(clients.prefix.length), payload);
    });
    subscriber.on('ready', () => this.sync());
    const lost = () => {
      if (this.synced) this.lostAt = new Date();
      this.synced = false;
      this.generation++;
    };
    subscriber.on('close', lost);
    subscriber.on('end', lost);
    if (subscriber.status === 'ready') this.sync();
  }

  get connected(): boolean {
    return this.synced;
  }

  publish(channel: string, payload: unknown): void {
    const message = payload === undefined ? '' : JSON.stringify(payload);
    this.clients.publish.publish(this.clients.prefix + channel, message).catch((err: unknown) => {
      this.options.logger?.warn({ err, channel }, 'could not publish a pub/sub event (Redis unavailable)');
    });
  }

  add(channel: string): void {
    if (this.wanted.has(channel)) return;
    this.wanted.add(channel);
    if (this.synced) this.subscribe([channel]);
  }

  remove(channel: string): void {
    if (!this.wanted.delete(channel) || !this.synced) return;
    this.clients.subscribe.unsubscribe(this.clients.prefix + channel).catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
  }

  /** (Re)subscribes every wanted channel; on success after a loss, announces the resumption. */
  private sync(): void {
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = undefined;
    const generation = this.generation;
    const channels = [...this.wanted].map((c) => this.clients.prefix + c);
    const done = channels.length ? this.clients.subscribe.subscribe(...channels) : Promise.resolve();
    done.then(
      () => {
        if (this.closed || generation !== this.generation || this.synced) return;
        this.synced = true;
        this.delay = this.options.retryMs;
        this.options.logger?.info({ channels: channels.length }, 'pub/sub channels subscribed');
        // Channels wanted while this SUBSCRIBE was on its way.
        const sent = new Set(channels);
        const missing = [...this.wanted].filter((c) => !sent.has(this.clients.prefix + c));
        if (missing.length) this.subscribe(missing);
        this.resumed({ lostAt: this.lostAt });
      },
      (err: unknown) => this.scheduleSync(err),
    );
  }

  /** Subscribes channels wanted while the connection is up; a failure re-syncs everything. */
  private subscribe(channels: string[]): void {
    this.clients.subscribe.subscribe(...channels.map((c) => this.clients.prefix + c)).catch((err: unknown) => {
      if (this.synced) this.lostAt = new Date();
      this.synced = false;
      this.scheduleSync(err);
    });
  }

  private scheduleSync(err: unknown): void {
    if (this.closed || this.retry) return;
    this.options.logger?.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: this.delay }, 'pub/sub channels not subscribed; retrying');
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.sync();
    }, this.delay);
    this.retry.unref();
    this.delay = Math.min(this.delay * 2, this.options.maxRetryMs);
  }
}

/** In process: delivered on a later microtask, as Redis would, so publishers never run listeners inline. */
class LocalTransport implements Transport {
  readonly connected = true;
  constructor(private readonly deliver: Deliver) {}
  publish(channel: string, payload: unknown): void {
    queueMicrotask(() => this.deliver(channel, payload));
  }
  add(): void {}
  remove(): void {}
  close(): void {}
}

/**
 * The pub/sub that carries events: through Redis when configured (every instance sees every event,
 * channels heal after outages), in process otherwise.
 */
export function createVigilPubSub(redis?: RedisPubSubClients, options: PubSubOptions = {}): VigilPubSub {
  const logger = options.logger;
  const handlers = new Map<string, Set<TopicHandler>>();
  const resumeListeners = new Set<(resume: PubSubResume) => unknown>();

  const contained = (what: string, fn: () => unknown) => {
    try {
      const result = fn();
      if (result instanceof Promise) result.catch((err: unknown) => logger?.error({ err }, what));
    } catch (err) {
      logger?.error({ err }, what);
    }
  };
  const deliver: Deliver = (channel, payload) => {
    const set = handlers.get(channel);
    if (!set) return;
    for (const handler of [...set]) contained(`pub/sub listener of ${channel} failed`, () => handler(payload));
  };
  const resumed = (resume: PubSubResume) => {
    for (const listener of [...resumeListeners]) contained('pub/sub resume listener failed', () => listener(resume));
  };
  const transport: Transport = redis
    ? new RedisTransport(redis, deliver, resumed, { retryMs: options.retryMs ?? 100, maxRetryMs: options.maxRetryMs ?? 2000, logger })
    : new LocalTransport(deliver);

  const listen = <T>(channel: string, handler: TopicHandler<T>): (() => void) => {
    let set = handlers.get(channel);
    if (!set) {
      set = new Set();
      handlers.set(channel, set);
      transport.add(channel);
    }
    set.add(handler as TopicHandler);
    return () => {
      const current = handlers.get(channel);
      if (!current?.delete(handler as TopicHandler) || current.size) return;
      handlers.delete(channel);
      transport.remove(channel);
    };
  };

  return {
    publish(topic: string, ...args: [unknown] | [string, unknown]) {
      const channel = args.length === 2 ? `${topic}:${args[0]}` : topic;
      const payload = args.length === 2 ? args[1] : args[0];
      try {
        transport.publish(channel, payload);
      } catch (err) {
        logger?.warn({ err, channel }, 'could not publish a pub/sub event');
      }
    },
    subscribe<T>(topic: string, id: string | undefined, limit: QueueLimit): AsyncIterableIterator<T> {
      const queue = new BoundedQueue<T>(limit);
      const unlisten = listen<T>(id === undefined ? topic : `${topic}:${id}`, (payload) => queue.push(payload));
      queue.whenEnded(unlisten);
      return queue;
    },
    listen,
    onResume(listener) {
      resumeListeners.add(listener);
      return () => resumeListeners.delete(listener);
    },
    get connected() {
      return transport.connected;
    },
    close() {
      transport.close();
    },
  } as VigilPubSub;
}
