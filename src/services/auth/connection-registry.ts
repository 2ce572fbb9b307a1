import type { Logger } from '../../infra/logger';
import type { VigilPubSub } from '../../infra/pubsub';

/** graphql-ws close code for a connection whose session is no longer allowed (CloseCode.Forbidden). */
export const WS_FORBIDDEN = 4403;

/** The cluster-wide topic that carries session revocations and role changes. */
export const SESSION_EVENTS_TOPIC = 'auth:session-events';

/** A notice that sessions ended or a user's rights changed; every instance closes matching sockets. */
export interface SessionEvent {
  sessionIds?: string[];
  userIds?: string[];
  reason: string;
}

interface Connection {
  sessionId: string;
  userId: string;
  close(code: number, reason: string): void;
}

/**
 * The signed-in websocket connections of this instance, by session and user. Revocations and role
 * changes published on {@link SESSION_EVENTS_TOPIC} (through Redis when configured) close the
 * matching connections with 4403, so no subscription outlives the session or the role it was
 * opened with; a client reconnects and is checked again.
 */
export class ConnectionRegistry {
  private readonly connections = new Set<Connection>();
  private listening: AsyncIterator<unknown> | undefined;
  private readonly listeners = new Set<(event: SessionEvent) => void>();

  constructor(
    private readonly pubsub: VigilPubSub,
    private readonly logger: Logger,
  ) {}

  /** Registers a connection; returns the function that unregisters it. */
  add(connection: Connection): () => void {
    this.connections.add(connection);
    return () => this.connections.delete(connection);
  }

  get size(): number {
    return this.connections.size;
  }

  /** Tells every instance (this one included) to close the matching connections. */
  /**
   * Calls `listener` with every session event: at once for events published here, and on arrival
   * for those of other instances (e.g. to drop cached session state). Returns the unsubscribe.
   */
  onSessionEvent(listener: (event: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(event: SessionEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  publish(event: SessionEvent): void {
    this.notify(event);
    (this.pubsub.publish as unknown as (topic: string, payload: SessionEvent) => void).call(this.pubsub, SESSION_EVENTS_TOPIC, event);
  }

  /** Closes this instance's connections that match an event. */
  closeMatching(event: SessionEvent): number {
    const sessions = new Set(event.sessionIds ?? []);
    const users = new Set(event.userIds ?? []);
    let closed = 0;
    for (const connection of [...this.connections]) {
      if (sessions.has(connection.sessionId) || users.has(connection.userId)) {
        this.connections.delete(connection);
        connection.close(WS_FORBIDDEN, 'Forbidden');
        closed++;
      }
    }
    if (closed) this.logger.info({ closed, reason: event.reason }, 'closed websocket connections of ended sessions');
    return closed;
  }

  /** Starts listening for session events. */
  start(): void {
    if (this.listening) return;
    const subscribe = this.pubsub.subscribe as unknown as (topic: string) => AsyncIterable<SessionEvent>;
    const iterator = subscribe.call(this.pubsub, SESSION_EVENTS_TOPIC)[Symbol.asyncIterator]();
    this.listening = iterator;
    void (async () => {
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          this.notify(next.value as SessionEvent);
          this.closeMatching(next.value as SessionEvent);
        }
      } catch (error) {
        this.logger.error({ err: error }, 'session event listener failed');
      }
    })();
  }

  async stop(): Promise<void> {
    const iterator = this.listening;
    this.listening = undefined;
    await iterator?.return?.();
  }
}
