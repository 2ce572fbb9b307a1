import type { MikroORM } from '../../infra/db';
import type { Redis } from '../../infra/redis';
import type { Logger } from '../../infra/logger';
import type { VigilPubSub } from '../../infra/pubsub';

import { VigilCloseCode } from '../../infra/websocket';

/** How long a request waits for the session epoch before it goes without (Redis slow). */
const EPOCH_TIMEOUT_MS = 250;

/** `work`'s value, or null when it takes longer than {@link EPOCH_TIMEOUT_MS}. */
async function bounded<T>(work: Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), EPOCH_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why connections are closed when a user's rights changed (the session itself lives on). */
export const RIGHTS_CHANGED_REASON = 'role-changed';

/** The cluster-wide topic that carries session revocations and role changes. */
export const SESSION_EVENTS_TOPIC = 'auth:session-events';

/** A notice that sessions ended or a user's rights changed; every instance closes matching sockets. */
export interface SessionEvent {
  sessionIds?: string[];
  userIds?: string[];
  reason: string;
  /** Cached session state of every session may be stale (events were lost during a pub/sub outage). */
  stale?: boolean;
}

interface Connection {
  sessionId: string;
  userId: string;
  /** The role the connection was opened with; a different role now closes it after a pub/sub outage. */
  role?: string;
  /** Whether the user had a second factor, and whether the session was held to enrolling one, when it opened. */
  mfaEnabled?: boolean;
  mfaEnrollmentRequired?: boolean;
  close(code: number, reason: string): void;
}

interface LiveSessionRow {
  session_id: string;
  role: string;
}

/**
 * The signed-in websocket connections of this instance, by session and user. Revocations and role
 * changes published on {@link SESSION_EVENTS_TOPIC} (through Redis when configured) close the
 * matching connections — 4401 when the session ended, 4403 when the rights changed — so no subscription outlives the session or the role it was
 * opened with; a client reconnects and is checked again. Events lost while pub/sub was down are
 * caught up from PostgreSQL when it comes back: connections whose session ended or whose user was
 * disabled or changed role meanwhile are closed the same way.
 */
export class ConnectionRegistry {
  private readonly connections = new Set<Connection>();
  private unlisten: (() => void)[] = [];
  private readonly listeners = new Set<(event: SessionEvent) => void>();

  constructor(
    private readonly pubsub: VigilPubSub,
    private readonly logger: Logger,
    private readonly orm?: MikroORM,
    /** Shared by the instances: the session epoch (see {@link epoch}) lives there. */
    private readonly shared?: { redis: Redis; prefix: string },
  ) {}

  /**
   * The cluster's session epoch: a counter in Redis that every session event raises before it is
   * published, so an instance that cached a session's state can tell, with one read, that it may
   * be stale — even before the event itself arrives. Null without Redis, or while it is away.
   */
  async epoch(): Promise<string | null> {
    // A Redis that is down or slow must not hold up every signed-in request: no answer is no epoch.
    if (!this.shared || this.shared.redis.status !== 'ready') return null;
    return bounded(this.shared.redis.get(this.epochKey()).then((value) => value ?? '0')).catch(() => null);
  }

  private epochKey(): string {
    return `${this.shared!.prefix}auth:session-epoch`;
  }

  /** Registers a connection; returns the function that unregisters it. */
  add(connection: Connection): () => void {
    this.connections.add(connection);
    return () => this.connections.delete(connection);
  }

  get size(): number {
    return this.connections.size;
  }

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

  /**
   * Tells every instance (this one included) to close the matching connections and drop cached
   * session state. Resolves once the session epoch is raised: from then on, no instance answers
   * from a cached state older than the event (while Redis answers).
   */
  async publish(event: SessionEvent): Promise<void> {
    this.notify(event);
    // Also while still connecting (a CLI command that just started): the wait is bounded.
    if (this.shared && this.shared.redis.status !== 'end') {
      await bounded(this.shared.redis.incr(this.epochKey())).catch((err: unknown) => this.logger.warn({ err }, 'could not raise the session epoch; other instances learn of the event by pub/sub'));
    }
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
        if (event.reason === RIGHTS_CHANGED_REASON) connection.close(VigilCloseCode.RightsChanged, 'Rights changed: reconnect');
        else connection.close(VigilCloseCode.SessionEnded, 'Session ended: sign in again');
        closed++;
      }
    }
    if (closed) this.logger.info({ closed, reason: event.reason }, 'closed websocket connections of ended sessions');
    return closed;
  }

  /**
   * Closes this instance's connections whose rights changed without an event (the settings that
   * decide them did), with 4403 so their clients reconnect and are checked again.
   */
  closeWhereRightsChanged(changed: (connection: Readonly<Omit<Connection, 'close'>>) => boolean): number {
    const sessionIds = [...this.connections].filter((c) => changed(c)).map((c) => c.sessionId);
    return sessionIds.length ? this.closeMatching({ sessionIds, reason: RIGHTS_CHANGED_REASON }) : 0;
  }

  /** Starts listening for session events, and catching up on those lost while pub/sub was down. */
  start(): void {
    if (this.unlisten.length) return;
    this.unlisten.push(
      this.pubsub.listen<SessionEvent>(SESSION_EVENTS_TOPIC, (event) => {
        if (!event || typeof event !== 'object') return;
        this.notify(event);
        this.closeMatching(event);
      }),
      this.pubsub.onResume(() => this.catchUp()),
    );
  }

  /** Closes the connections whose session ended, or whose user was disabled or changed role, per PostgreSQL. */
  async catchUp(): Promise<void> {
    this.notify({ reason: 'pub/sub resumed', stale: true });
    if (!this.orm || !this.connections.size) return;
    const connections = [...this.connections];
    const rows = await this.orm.em
      .fork()
      .getConnection()
      .execute<LiveSessionRow[]>(
        `select s.id as session_id, u.role
           from session s join "user" u on u.id = s.user_id
          where s.id = any(string_to_array(?, ',')::uuid[]) and s.revoked_at is null and s.expires_at > now() and not u.disabled`,
        // One text parameter: knex spreads an array binding into a list of parameters.
        [connections.map((c) => c.sessionId).join(',')],
      )
      .catch((err: unknown) => {
        this.logger.warn({ err }, 'could not check websocket sessions after a pub/sub outage');
        return undefined;
      });
    if (!rows) return;
    const live = new Map(rows.map((r) => [r.session_id, r.role]));
    const ended = connections.filter((c) => !live.has(c.sessionId));
    const changed = connections.filter((c) => live.has(c.sessionId) && c.role !== undefined && live.get(c.sessionId) !== c.role);
    if (ended.length) this.closeMatching({ sessionIds: ended.map((c) => c.sessionId), reason: 'ended while pub/sub was down' });
    if (changed.length) this.closeMatching({ sessionIds: changed.map((c) => c.sessionId), reason: RIGHTS_CHANGED_REASON });
  }

  async stop(): Promise<void> {
    for (const unlisten of this.unlisten.splice(0)) unlisten();
  }
}
