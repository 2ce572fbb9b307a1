import { createHash } from 'node:crypto';
import { systemMeta } from '../../context';
import { AlertLevel } from '../../entities/alert.entity';
import type { Logger } from '../../infra/logger';
import type { VigilPubSub } from '../../infra/pubsub';
import type { Redis } from '../../infra/redis';
import type { AlertService, RaiseAlertData } from './alert.service';
import { SourceTopic } from './alert-topics';
import { PendingWrites } from './pending-writes';
import type { HealthComponentChangedEvent } from '../health/health-check';

export interface AlertSourcesOptions {
  alerts: AlertService;
  pubsub: VigilPubSub;
  logger: Logger;
  /** With several instances, each event is handled by the one that claims it first here. */
  redis?: Redis;
  redisPrefix: string;
  /** Denials of one actor within the window that raise an alert; read at each denial. */
  denialsThreshold: () => number;
  /** Read at each denial. */
  denialsWindowSeconds: () => number;
  /**
   * This instance's health monitor. Its component changes are taken in process: each instance
   * reports what it sees, and a Redis outage still raises its alert.
   */
  health?: { onComponentChange(listener: (event: HealthComponentChangedEvent) => void): () => void };
}

type Payload = Record<string, unknown>;

const str = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);

/** Levels for a health component's status. */
const HEALTH_LEVELS: Record<string, AlertLevel> = { DEGRADED: AlertLevel.WARNING, DOWN: AlertLevel.ERROR };

/**
 * How long a claimed event is remembered. Pub/sub reaches every instance within milliseconds; an
 * identical event (same payload, no event id) repeated within this window is handled once.
 */
const CLAIM_SECONDS = 5;

/**
 * Turns events other areas publish into alerts: health components going DEGRADED or DOWN (and
 * recovering), a broken audit chain, failed, stale and restored backups, and security events
 * (lockouts, refresh-token reuse, repeated permission denials of one actor). Every instance listens;
 * with Redis, each event is handled once cluster-wide, and fingerprint dedup folds the same problem
 * seen by several instances into one alert.
 */
export class AlertSources {
  private readonly unlisten: (() => void)[] = [];
  private readonly localDenials = new Map<string, { count: number; resetAt: number }>();
  private readonly pending = new Set<Promise<void>>();
  private stopHealth?: () => void;
  private readonly writes: PendingWrites;

  constructor(private readonly options: AlertSourcesOptions) {
    this.writes = new PendingWrites({ logger: options.logger });
  }

  start(): void {
    if (this.unlisten.length) return;
    if (this.options.health) {
      this.stopHealth = this.options.health.onComponentChange((event) => this.track(this.onHealth({ ...event })));
    } else {
      this.listen(SourceTopic.HEALTH_COMPONENT_CHANGED, (p) => this.onHealth(p));
    }
    this.listen(SourceTopic.AUDIT_CHAIN_BROKEN, (p) =>
      this.raise({
        level: AlertLevel.CRITICAL,
        source: 'audit',
        fingerprint: 'audit:chain-broken',
        title: 'The audit trail’s hash chain is broken',
        message: `Verification found the first broken entry at seq ${String(p.firstBrokenSeq ?? 'unknown')}: an entry was changed or removed.`,
        labels: { firstBrokenSeq: p.firstBrokenSeq ?? null },
      }),
    );
    this.listen(SourceTopic.BACKUP_FAILED, (p) => {
      const kind = str(p.kind) ?? 'BACKUP';
      return this.raise({
        level: AlertLevel.ERROR,
        source: 'backup',
        fingerprint: `backup:failed:${kind.toLowerCase()}`,
        title: `${kind === 'DRILL' ? 'A restore drill' : kind === 'RESTORE' ? 'A restore' : 'A backup'} failed`,
        message: str(p.error),
        labels: { backupId: p.id ?? null, kind, trigger: p.trigger ?? null },
      });
    });
    this.listen(SourceTopic.BACKUP_STALE, (p) =>
      this.raise({
        level: AlertLevel.WARNING,
        source: 'backup',
        fingerprint: 'backup:stale',
        title: 'No recent successful backup',
        message: `No backup succeeded within ${String(p.maxAgeHours ?? '?')} hours; the last one was at ${String(p.lastSuccessfulAt ?? 'never')}.`,
        labels: { lastSuccessfulAt: p.lastSuccessfulAt ?? null },
      }),
    );
    this.listen(SourceTopic.BACKUP_RESTORED, (p) =>
      this.raise({
        level: AlertLevel.WARNING,
        source: 'backup',
        fingerprint: `backup:restored:${str(p.id) ?? 'unknown'}`,
        title: 'The database was restored from a backup',
        message: `Backup ${str(p.id) ?? 'unknown'} was restored by ${str(p.by) ?? 'system'}.`,
        labels: { backupId: p.id ?? null },
      }),
    );
    this.listen(SourceTopic.SECURITY_EVENT, (p) => this.onSecurityEvent(p));
  }

  async stop(): Promise<void> {
    this.stopHealth?.();
    this.stopHealth = undefined;
    for (const unlisten of this.unlisten.splice(0)) unlisten();
    await Promise.all([...this.pending]);
    this.writes.stop();
  }

  /** Alerts and resolutions kept while the database was unavailable, stored once it is back. */
  get waitingWrites(): number {
    return this.writes.size;
  }

  /** Resolves once the events received so far have been handled. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private listen(topic: string, handle: (payload: Payload) => Promise<void>): void {
    const unlisten = this.options.pubsub.listen(topic, (payload) => {
      if (!payload || typeof payload !== 'object') return;
      this.track(this.claim(topic, payload as Payload).then((mine) => (mine ? handle(payload as Payload) : undefined)));
    });
    this.unlisten.push(unlisten);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err) => this.options.logger.error({ err }, 'could not turn an event into an alert'));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  /** With Redis, the first instance to claim an event handles it; without, this one does. */
  private async claim(topic: string, payload: Payload): Promise<boolean> {
    const { redis } = this.options;
    if (!redis) return true;
    const key = `${this.options.redisPrefix}alerts:event:${createHash('sha256').update(`${topic}\n${JSON.stringify(payload)}`).digest('hex')}`;
    try {
      return (await redis.set(key, '1', 'EX', CLAIM_SECONDS, 'NX')) === 'OK';
    } catch {
      // Better one alert counted twice than an alert missed while Redis is away.
      return true;
    }
  }

  /** Raises (or counts a repeat of) an alert; kept and retried while the database is unavailable. */
  private raise(data: RaiseAlertData): Promise<void> {
    return this.writes.run(`raise ${data.fingerprint ?? data.title}`, () => this.options.alerts.raise(systemMeta('alertSource'), data));
  }

  private async onHealth(p: Payload): Promise<void> {
    const component = str(p.component);
    const status = str(p.status);
    if (!component || !status) return;
    const fingerprint = `health:${component}`;
    const level = HEALTH_LEVELS[status];
    if (level) {
      await this.raise({
        level,
        source: 'health',
        fingerprint,
        title: `Health component ${component} is ${status}`,
        message: str(p.detail),
        labels: { component, status, previous: p.previous ?? null, instanceId: p.instanceId ?? null, observedAt: p.at ?? null },
      });
    } else if (status === 'UP') {
      await this.writes.run(`resolve ${fingerprint}`, () =>
        this.options.alerts.resolveByFingerprint(systemMeta('alertSource'), fingerprint, `${component} recovered`),
      );
    }
  }

  private async onSecurityEvent(p: Payload): Promise<void> {
    const action = str(p.action);
    const actorId = str(p.actorId) ?? (action === 'PERMISSION_DENIED' ? null : str(p.resourceId));
    const ip = str(p.ip);
    const who = actorId ? `user ${actorId}` : ip ? `address ${ip}` : 'an unknown actor';
    if (action === 'ACCOUNT_LOCKED') {
      await this.raise({
        level: AlertLevel.WARNING,
        source: 'security',
        fingerprint: `security:lockout:${actorId ?? ip ?? 'unknown'}`,
        title: 'An account was locked after repeated failed sign-ins',
        message: `Locked: ${who}.`,
        labels: { action, actorId, ip },
      });
    } else if (action === 'SECOND_FACTOR_LOCKED') {
      await this.raise({
        level: AlertLevel.WARNING,
        source: 'security',
        fingerprint: `security:second-factor-lockout:${str(p.resourceId) ?? ip ?? 'unknown'}`,
        title: 'A second factor was locked after repeated wrong codes',
        message: `Locked: the second factor of user ${str(p.resourceId) ?? 'unknown'}; the password was known to whoever tried.`,
        labels: { action, actorId, userId: str(p.resourceId), ip },
      });
    } else if (action === 'MFA_RECOVERY_CODE_USED' || action === 'MFA_RECOVERY_CODES_REGENERATED' || action === 'MFA_RESET') {
      const userId = str(p.resourceId);
      const what =
        action === 'MFA_RECOVERY_CODE_USED'
          ? 'A recovery code replaced the one-time code at sign-in'
          : action === 'MFA_RECOVERY_CODES_REGENERATED'
            ? 'Recovery codes were regenerated'
            : 'An administrator reset a second factor';
      await this.raise({
        level: AlertLevel.WARNING,
        source: 'security',
        fingerprint: `security:${action.toLowerCase().replace(/_/g, '-')}:${userId ?? 'unknown'}`,
        title: what,
        message: `${what} for user ${userId ?? 'unknown'} (by ${who}). If this was not expected, the account may be compromised.`,
        labels: { action, actorId, userId, ip },
      });
    } else if (action === 'REFRESH_TOKEN_REUSE') {
      await this.raise({
        level: AlertLevel.CRITICAL,
        source: 'security',
        fingerprint: `security:refresh-reuse:${actorId ?? ip ?? 'unknown'}`,
        title: 'A refresh token was reused: the session may be stolen',
        message: `The session of ${who} was revoked after an old refresh token was presented again.`,
        labels: { action, actorId, ip },
      });
    } else if (action === 'PERMISSION_DENIED') {
      const actor = actorId ?? ip ?? 'unknown';
      const count = await this.countDenial(actor);
      if (count === this.options.denialsThreshold()) {
        await this.raise({
          level: AlertLevel.WARNING,
          source: 'security',
          fingerprint: `security:denials:${actor}`,
          title: 'Repeated permission denials from one actor',
          message: `${who} was denied ${count} times within ${this.options.denialsWindowSeconds()} seconds.`,
          labels: { action, actorId, ip, count },
        });
      }
    }
  }

  /** Denials of one actor in the current window, cluster-wide when Redis is there. */
  private async countDenial(actor: string): Promise<number> {
    const { redis } = this.options;
    const denialsWindowSeconds = this.options.denialsWindowSeconds();
    if (redis) {
      try {
        const key = `${this.options.redisPrefix}alerts:denials:${actor}`;
        const [[, count]] = (await redis.multi().incr(key).expire(key, denialsWindowSeconds, 'NX').exec()) as [[Error | null, number]];
        return Number(count);
      } catch {
        // fall back to this instance's count
      }
    }
    const now = Date.now();
    const entry = this.localDenials.get(actor);
    if (!entry || entry.resetAt <= now) {
      if (this.localDenials.size > 10_000) this.localDenials.clear();
      this.localDenials.set(actor, { count: 1, resetAt: now + denialsWindowSeconds * 1000 });
      return 1;
    }
    entry.count += 1;
    return entry.count;
  }
}
