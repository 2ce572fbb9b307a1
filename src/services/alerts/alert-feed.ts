import { Alert, levelAtLeast, levelsAtLeast, type AlertLevel } from '../../entities/alert.entity';
import type { MikroORM } from '../../infra/db';
import type { Logger } from '../../infra/logger';
import { BoundedQueue, type QueueLimit } from '../../infra/bounded-queue';
import type { PubSubResume, VigilPubSub } from '../../infra/pubsub';
import { AlertTopic, type AlertEventPayload } from './alert-topics';

export interface AlertFeedOptions {
  orm: MikroORM;
  pubsub: VigilPubSub;
  logger: Logger;
  /**
   * How often the feed also looks in the database for alerts it has not seen announced (a pub/sub
   * message lost while Redis was away). 0 disables the poll.
   * @default 5_000
   */
  pollIntervalMs?: number;
}

/** How a subscription wants its alerts; `limit` says how far its consumer may fall behind. */
export interface AlertStreamOptions {
  limit: QueueLimit;
  /** Only alerts at or above this level. */
  minLevel: AlertLevel;
  /** Replay every alert raised after the one with this seq before going live. */
  afterSeq?: number;
}

type Listener = (alert: Alert) => void;

/**
 * Changes made while pub/sub was down are found again by their own timestamps; the margin covers
 * clock skew between instances and a change committed just before the loss was noticed.
 */
const UPDATE_CATCH_UP_MARGIN_MS = 30_000;

const REPLAY_BATCH = 200;

/**
 * One per instance: listens to `ALERT_RAISED` and `ALERT_UPDATED` once and fans the reloaded alerts
 * out to this instance's subscriptions. New alerts are dispatched strictly in `seq` order: an event
 * whose seq jumps ahead first pulls the skipped alerts from the database (seq is gap-free), so an
 * alert announced late, out of order, or not at all (pub/sub outage) still arrives, in order.
 */
export class AlertFeed {
  private lastSeq = 0;
  private ready?: Promise<void>;
  private chain: Promise<void> = Promise.resolve();
  private readonly raisedListeners = new Set<Listener>();
  private readonly updatedListeners = new Set<Listener>();
  private readonly unlisten: (() => void)[] = [];
  private poll?: NodeJS.Timeout;
  private stopped = false;
  private positioned = false;

  constructor(private readonly options: AlertFeedOptions) {}

  /** Starts listening (idempotent); resolves once the current position is known. */
  start(): Promise<void> {
    // A failed start (database unreachable) is retried by the next subscriber.
    this.ready ??= this.init().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async init(): Promise<void> {
    const position = this.options.orm.em
      .fork()
      .execute<{ max: string | number | null }[]>('select max(seq) as max from alert')
      .then((rows) => {
        this.lastSeq = Number(rows[0]?.max ?? 0);
        this.positioned = true;
      });
    // Events wait for the position; listening starts before it is read, so nothing committed in
    // between is missed.
    this.chain = position.catch(() => undefined);
    if (!this.unlisten.length) {
      this.listen(AlertTopic.RAISED, (payload) => this.enqueue(() => this.catchUp(payload.seq)));
      this.listen(AlertTopic.UPDATED, (payload) => this.enqueue(() => this.dispatchUpdated(payload.id)));
      this.unlisten.push(this.options.pubsub.onResume((resume) => this.onResume(resume)));
    }
    await position;
    const interval = this.options.pollIntervalMs ?? 5000;
    if (interval > 0 && !this.poll) {
      this.poll = setInterval(() => {
        if (this.raisedListeners.size) this.enqueue(() => this.catchUp());
      }, interval);
      this.poll.unref();
    }
  }

  private listen(topic: string, handle: (payload: AlertEventPayload) => void): void {
    const unlisten = this.options.pubsub.listen<Partial<AlertEventPayload> | null>(topic, (payload) => {
      if (this.stopped) return;
      if (payload && typeof payload.id === 'string' && Number.isFinite(Number(payload.seq))) {
        handle({ id: payload.id, seq: Number(payload.seq) });
      }
    });
    this.unlisten.push(unlisten);
  }

  /**
   * Pub/sub came back after an outage: alerts raised meanwhile are pulled by seq, and alerts
   * changed meanwhile (acknowledged, resolved, escalated, repeated on another instance) are found
   * by their timestamps and dispatched to `updated` subscribers.
   */
  private onResume(resume: PubSubResume): void {
    if (this.stopped) return;
    this.enqueue(() => this.catchUp());
    if (!this.updatedListeners.size) return;
    const since = new Date(resume.lostAt.getTime() - UPDATE_CATCH_UP_MARGIN_MS);
    this.enqueue(async () => {
      const changed = await this.options.orm.em.fork().find(
        Alert,
        { $or: [{ lastSeenAt: { $gte: since } }, { acknowledgedAt: { $gte: since } }, { resolvedAt: { $gte: since } }, { escalatedAt: { $gte: since } }] },
        { orderBy: { seq: 'asc' }, limit: 1000 },
      );
      for (const alert of changed) for (const listener of this.updatedListeners) listener(alert);
    });
  }

  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain
      .then(work)
      .catch((err) => this.options.logger.error({ err }, 'alert feed could not load alerts'));
  }

  /** Loads and dispatches every alert after the last one dispatched, up to `upTo` when given. */
  private async catchUp(upTo?: number): Promise<void> {
    if (!this.positioned || (upTo !== undefined && upTo <= this.lastSeq)) return;
    for (;;) {
      const em = this.options.orm.em.fork();
      const rows = await em.find(
        Alert,
        { seq: upTo === undefined ? { $gt: this.lastSeq } : { $gt: this.lastSeq, $lte: upTo } },
        { orderBy: { seq: 'asc' }, limit: REPLAY_BATCH },
      );
      for (const alert of rows) {
        this.lastSeq = alert.seq;
        for (const listener of this.raisedListeners) listener(alert);
      }
      if (rows.length < REPLAY_BATCH) return;
    }
  }

  private async dispatchUpdated(id: string): Promise<void> {
    if (!this.updatedListeners.size) return;
    const alert = await this.options.orm.em.fork().findOne(Alert, { id });
    if (!alert) return;
    for (const listener of this.updatedListeners) listener(alert);
  }

  /**
   * New alerts at or above `minLevel`, in seq order: with `afterSeq`, first every such alert raised
   * after it (from the database), then live ones, without a gap or a duplicate between the two.
   */
  raised(options: AlertStreamOptions): AsyncIterableIterator<Alert> {
    const { minLevel, afterSeq } = options;
    const queue = new BoundedQueue<Alert>(options.limit);
    const listener: Listener = (alert) => {
      if (levelAtLeast(alert.level, minLevel)) queue.push(alert);
    };
    const stream = async function* (this: AlertFeed): AsyncGenerator<Alert> {
      await this.start();
      // Registering and reading the position happen in one synchronous step: everything up to
      // `liveFrom` is in the database, everything after it reaches the listener.
      this.raisedListeners.add(listener);
      const liveFrom = this.lastSeq;
      let last = afterSeq ?? liveFrom;
      try {
        while (last < liveFrom) {
          const rows = await this.options.orm.em
            .fork()
            .find(
              Alert,
              { seq: { $gt: last, $lte: liveFrom }, level: { $in: levelsAtLeast(minLevel) } },
              { orderBy: { seq: 'asc' }, limit: REPLAY_BATCH },
            );
          if (!rows.length) break;
          for (const alert of rows) {
            last = alert.seq;
            yield alert;
          }
        }
        for await (const alert of queue) {
          if (alert.seq <= last) continue;
          last = alert.seq;
          yield alert;
        }
      } finally {
        this.raisedListeners.delete(listener);
        queue.end();
      }
    };
    return endable(stream.call(this), queue);
  }

  /** Every change to an alert (repeat, acknowledgement, resolution, escalation), as it happens. */
  updated(limit: QueueLimit): AsyncIterableIterator<Alert> {
    const queue = new BoundedQueue<Alert>(limit);
    const listener: Listener = (alert) => queue.push(alert);
    const stream = async function* (this: AlertFeed): AsyncGenerator<Alert> {
      await this.start();
      this.updatedListeners.add(listener);
      try {
        yield* queue;
      } finally {
        this.updatedListeners.delete(listener);
        queue.end();
      }
    };
    return endable(stream.call(this), queue);
  }

  /** How many subscriptions this instance serves (for metrics and tests). */
  get subscriberCount(): number {
    return this.raisedListeners.size + this.updatedListeners.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    for (const unlisten of this.unlisten.splice(0)) unlisten();
    await this.chain;
  }
}

/**
 * An async generator's `return()` waits while the generator awaits its next value, so a client
 * leaving an idle subscription would keep its listener until the next alert. Ending the queue
 * first lets the generator finish at once.
 */
function endable<T>(generator: AsyncGenerator<T>, queue: BoundedQueue<T>): AsyncIterableIterator<T> {
  return {
    next: () => generator.next(),
    return: async () => {
      queue.end();
      return generator.return(undefined);
    },
    throw: async (error: unknown) => {
      queue.end();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
