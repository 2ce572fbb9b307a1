import type { Client } from 'graphql-ws';
import { createWsClient } from '../shared/api';
import { CONSOLE_ALERT_RAISED, CONSOLE_ALERT_UPDATED, CONSOLE_HEALTH_CHANGED } from '../shared/operations';

/** An alert as the console shows it: the fields it selects of the schema's `Alert` type (schema.graphql). */
export interface Alert {
  id: string;
  level: AlertLevel;
  title: string;
  message: string | null;
  source: string;
  status: 'ACTIVE' | 'ACKNOWLEDGED' | 'RESOLVED';
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: { id: string; name: string } | null;
  resolvedAt: string | null;
  resolvedBy: { id: string; name: string } | null;
  resolution: string | null;
  escalationLevel: number;
}

export type AlertLevel = 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
export const ALERT_LEVELS: AlertLevel[] = ['INFO', 'WARNING', 'ERROR', 'CRITICAL'];

/** Health as the console shows it; `components` is null for roles without ADMIN_ACCESS. */
export interface Health {
  status: 'UP' | 'DEGRADED' | 'DOWN';
  checkedAt: string;
  components: { name: string; status: 'UP' | 'DEGRADED' | 'DOWN'; latencyMs: number | null; detail: string | null }[] | null;
}

/** Where the live connection stands, for the status line. */
export type LiveState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'reconnecting'; inSeconds: number; reason: string }
  | { kind: 'paused' }
  | { kind: 'refused'; reason: string };

export interface LiveHandlers {
  onAlert(alert: Alert): void;
  onHealth(health: Health): void;
  onState(state: LiveState): void;
  onError(message: string): void;
}

const MAX_BACKOFF_SECONDS = 15;

/** Close codes after which reconnecting with the same token cannot help (graphql-ws `CloseCode`). */
const FINAL_CLOSE_CODES: Record<number, string> = {
  4403: 'the gateway refused the token (expired or revoked): sign in again',
  4400: 'the gateway refused the connection request',
};

/**
 * The console's live feed: `healthChanged` for everyone, plus `alertRaised` and `alertUpdated`
 * when signed in. When the socket drops it reconnects with a growing delay, and resubscribes to
 * `alertRaised` with `after` set to the last alert it saw, so the gateway replays whatever was
 * raised in between: no gap.
 */
export class LiveFeed {
  private client: Client | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private stopped = false;
  private generation = 0;

  constructor(
    private readonly token: string | null,
    private readonly minLevel: AlertLevel,
    private readonly handlers: LiveHandlers,
    /** The newest alert already on screen; the stream resumes after it. */
    private lastAlertId: string | null,
  ) {}

  /** The id `alertRaised` will resume after on the next (re)connection. */
  get resumeAfter(): string | null {
    return this.lastAlertId;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Drops the current socket (if any) and connects again at once, resuming after the last alert seen. */
  reconnectNow(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes the socket and stops reconnecting until {@link reconnectNow}. */
  pause(): void {
    this.stop();
    this.handlers.onState({ kind: 'paused' });
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.generation++;
    void this.client?.dispose();
    this.client = null;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private connect(): void {
    this.clearTimer();
    this.generation++;
    const generation = this.generation;
    void this.client?.dispose();
    this.handlers.onState({ kind: 'connecting' });
    const current = () => generation === this.generation;
    const client = createWsClient(this.token, {
      lazy: false,
      retryAttempts: 0,
      keepAlive: 15_000,
      on: {
        connected: () => {
          if (!current()) return;
          this.attempts = 0;
          this.handlers.onState({ kind: 'live' });
        },
        closed: (event) => {
          if (!current() || this.stopped) return;
          const code = (event as { code?: number } | undefined)?.code ?? 0;
          const reason = (event as { reason?: string } | undefined)?.reason || `connection closed (${code})`;
          this.client = null;
          this.generation++;
          void client.dispose();
          if (FINAL_CLOSE_CODES[code]) {
            this.stopped = true;
            this.handlers.onState({ kind: 'refused', reason: FINAL_CLOSE_CODES[code]! });
            return;
          }
          this.scheduleReconnect(reason);
        },
      },
    });
    this.client = client;

    const sink = <T>(deliver: (data: T) => void) => ({
      next: (result: { data?: T | null; errors?: readonly { message: string }[] }) => {
        if (!current()) return;
        if (result.errors?.length) this.handlers.onError(result.errors[0]!.message);
        if (result.data) deliver(result.data);
      },
      error: (error: unknown) => {
        if (!current()) return;
        // A socket close is reported by `closed` above; anything else is an error of this operation.
        if (error instanceof Error || Array.isArray(error)) {
          const first = Array.isArray(error) ? (error[0] as { message?: string } | undefined) : error;
          this.handlers.onError(first?.message ?? 'subscription failed');
        }
      },
      complete: () => undefined,
    });

    client.subscribe<{ healthChanged: Health }>({ query: CONSOLE_HEALTH_CHANGED }, sink((data) => this.handlers.onHealth(data.healthChanged)));
    if (this.token) {
      client.subscribe<{ alertRaised: Alert }>(
        { query: CONSOLE_ALERT_RAISED, variables: { minLevel: this.minLevel, after: this.lastAlertId } },
        sink((data) => {
          this.lastAlertId = data.alertRaised.id;
          this.handlers.onAlert(data.alertRaised);
        }),
      );
      client.subscribe<{ alertUpdated: Alert }>({ query: CONSOLE_ALERT_UPDATED }, sink((data) => this.handlers.onAlert(data.alertUpdated)));
    }
  }

  private scheduleReconnect(reason: string): void {
    const delay = Math.min(MAX_BACKOFF_SECONDS, 2 ** this.attempts);
    this.attempts++;
    this.handlers.onState({ kind: 'reconnecting', inSeconds: delay, reason });
    this.timer = setTimeout(() => this.connect(), delay * 1000);
  }
}
