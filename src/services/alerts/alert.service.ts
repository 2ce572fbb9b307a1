import type { VigilMetrics } from '../../infra/metrics';
import { createHash, randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { RequestMeta } from '../../context';
import { AlertSilence } from '../../entities/alert-silence.entity';
import { Alert, ALERT_LEVELS, AlertLevel, AlertStatus, levelAtLeast, type AlertLabels } from '../../entities/alert.entity';
import { BadUserInputError, ConflictError, NotFoundError } from '../../errors';
import type { EntityManager, MikroORM } from '../../infra/db';
import type { Logger } from '../../infra/logger';
import type { VigilPubSub } from '../../infra/pubsub';
import { pageWindow, type Page, type PageArgs } from '../../schema/connection';
import type { ListDirection } from '../../schema/list-order';
import type { AuditEntryInput } from '../audit/audit.service';
import type { AlertDeliverer } from './alert-deliverer';
import { listAlerts } from './alert.queries';
import type { AlertFeed } from './alert-feed';
import { AlertTopic, type AlertEventPayload } from './alert-topics';
import { isUuid } from '../../infra/ids';
import { ALERT_RAISE_LOCK, NEXT_ALERT_SEQ_SQL } from './alert-sequence';

/** Advisory lock keys: raising (dedup + seq assignment) and the escalation job. */
export const ALERT_LOCKS = {
  raise: ALERT_RAISE_LOCK,
  escalation: 7_310_447_002,
} as const;

/** Limits on what a caller may put into an alert. */
export const ALERT_LIMITS = { title: 200, message: 10_000, source: 100, fingerprint: 200, labelsBytes: 8 * 1024, labelKeys: 50 } as const;

/** What is needed to raise an alert; `source` defaults to `api`, `fingerprint` to a hash of source and title. */
export interface RaiseAlertData {
  level: AlertLevel;
  title: string;
  message?: string | null;
  source?: string | null;
  fingerprint?: string | null;
  labels?: AlertLabels | null;
}

/** The outcome of a raise: a new alert, or a repeat counted on an existing one. */
export interface RaiseResult {
  alert: Alert;
  created: boolean;
}

export interface AlertListFilter {
  level?: AlertLevel | null;
  status?: AlertStatus | null;
  source?: string | null;
  /** First seen at or after. */
  from?: Date | null;
  /** First seen before. */
  to?: Date | null;
}

export interface SilenceData {
  source?: string | null;
  level?: AlertLevel | null;
  fingerprint?: string | null;
  labels?: AlertLabels | null;
  /** Absent: until a matching alert is resolved. */
  until?: Date | null;
  reason?: string | null;
}

/** The part of the audit service alerts need (the audit contract). */
export interface AlertAuditRecorder {
  record(em: EntityManager, meta: RequestMeta, entry: AuditEntryInput): Promise<void>;
}

export interface AlertServiceDeps {
  orm: MikroORM;
  pubsub: VigilPubSub;
  logger: Logger;
  audit: AlertAuditRecorder;
  feed: AlertFeed;
  deliverer: AlertDeliverer;
  /** Seconds within which a repeat of a fingerprint is counted on the existing alert; read at each raise. */
  cooldownSeconds: () => number;
  /** Seconds an ERROR or CRITICAL alert may stay ACTIVE before it escalates; read at each check. */
  escalationSeconds: () => number;
  /** Creates the investigation for {@link AlertService.openInvestigation}. */
  openInvestigation: (em: EntityManager, meta: RequestMeta, alert: Alert) => Promise<{ id: string }>;
  /** Counts new alerts (`vigil_alerts_raised_total{level}`; repeats within the cooldown are not new). */
  metrics?: Pick<VigilMetrics, 'alertsRaised'>;
  /** The longest a silence may last, in seconds; read at each silence. @default 7 days */
  silenceMaxSeconds?: () => number;
}

/**
 * Whether a silence's matcher can mute alerts of the security source: it names that source, names
 * no source at all (it then matches every source), or names a security fingerprint.
 */
export function silenceCoversSecurity(matcher: { source?: string | null; level?: unknown; fingerprint?: string | null; labels?: unknown }): boolean {
  // An empty matcher is no silence at all: it is refused as BAD_USER_INPUT.
  if (!matcher.source && !matcher.level && !matcher.fingerprint && !matcher.labels) return false;
  if (matcher.fingerprint) return matcher.fingerprint.startsWith('security:') || !matcher.source || matcher.source === 'security';
  return !matcher.source || matcher.source === 'security';
}

/** The default fingerprint: alerts with the same source and title are the same problem. */
export function defaultFingerprint(source: string, title: string): string {
  return createHash('sha256').update(JSON.stringify([source, title])).digest('hex').slice(0, 32);
}

function snapshot(alert: Alert): Record<string, unknown> {
  return {
    level: alert.level,
    status: alert.status,
    count: alert.count,
    escalationLevel: alert.escalationLevel,
    resolution: alert.resolution ?? null,
    investigationId: alert.investigationId ?? null,
  };
}

/**
 * Alerts: raised (persisted first, then published), deduplicated by fingerprint within the
 * cooldown, acknowledged, resolved, escalated, silenced and delivered. Raising takes a
 * cluster-wide advisory lock for the rest of its short transaction, which makes dedup race-free
 * across instances and gives `seq` the commit order with no gaps.
 */
export class AlertService {
  private readonly background: { start(): void; stop(): Promise<void> }[] = [];

  constructor(private readonly deps: AlertServiceDeps) {}

  /** Adds work that runs between {@link start} and {@link stop} (event sources, escalation). */
  runInBackground(work: { start(): void; stop(): Promise<void> }): void {
    this.background.push(work);
  }

  /** Starts the live feed and the background work. */
  start(): void {
    void this.deps.feed.start().catch((err) => this.deps.logger.error({ err }, 'alert feed could not start'));
    for (const work of this.background) work.start();
  }

  /** Stops background work, the feed and pending delivery retries. */
  async stop(): Promise<void> {
    for (const work of this.background) await work.stop();
    await this.deps.feed.stop();
    await this.deps.deliverer.stop();
  }

  /** Background deliveries (tests await them). */
  get deliverer(): AlertDeliverer {
    return this.deps.deliverer;
  }

  /** This instance's live alert streams (subscriptions read from it). */
  get feed(): AlertFeed {
    return this.deps.feed;
  }

  /**
   * Records an alert, or counts a repeat of an unresolved one with the same fingerprint seen within
   * the cooldown; then publishes `ALERT_RAISED` (new) or `ALERT_UPDATED` (repeat) and starts
   * delivery of new alerts in the background. Audited when a user raises it.
   */
  async raise(meta: RequestMeta, data: RaiseAlertData): Promise<RaiseResult> {
    const input = validateRaise(data);
    const result = await this.deps.orm.em.fork().transactional(async (tx) => {
      await tx.execute('select pg_advisory_xact_lock(?)', [ALERT_LOCKS.raise]);
      const now = new Date();
      const existing = await tx.findOne(
        Alert,
        {
          fingerprint: input.fingerprint,
          status: { $ne: AlertStatus.RESOLVED },
          lastSeenAt: { $gte: new Date(now.getTime() - this.deps.cooldownSeconds() * 1000) },
        },
        { orderBy: { lastSeenAt: 'desc' } },
      );
      if (existing) {
        const before = snapshot(existing);
        existing.count += 1;
        existing.lastSeenAt = now;
        if (levelAtLeast(input.level, existing.level)) existing.level = input.level;
        if (input.message !== null) existing.message = input.message;
        await tx.flush();
        if (meta.actor) {
          await this.deps.audit.record(tx, meta, {
            action: 'ALERT_REPEAT',
            resourceType: 'Alert',
            resourceId: existing.id,
            changes: { before, after: snapshot(existing) },
          });
        }
        return { alert: existing, created: false };
      }
      const [row] = await tx.execute<{ next: string | number }[]>(NEXT_ALERT_SEQ_SQL);
      const alert = tx.create(Alert, {
        id: randomUUID(),
        seq: Number(row!.next),
        level: input.level,
        title: input.title,
        message: input.message,
        source: input.source,
        fingerprint: input.fingerprint,
        labels: input.labels,
        firstSeenAt: now,
        lastSeenAt: now,
        createdById: meta.actor?.id ?? null,
      });
      await tx.flush();
      if (meta.actor) {
        await this.deps.audit.record(tx, meta, {
          action: 'ALERT_RAISE',
          resourceType: 'Alert',
          resourceId: alert.id,
          changes: { after: { ...snapshot(alert), title: alert.title, source: alert.source, fingerprint: alert.fingerprint } },
        });
      }
      return { alert, created: true };
    });
    this.publish(result.created ? AlertTopic.RAISED : AlertTopic.UPDATED, result.alert);
    if (result.created) {
      this.deps.metrics?.alertsRaised.inc({ level: result.alert.level });
      this.deps.deliverer.deliver(result.alert, 'RAISED');
    }
    return result;
  }

  /** An alert by id, or null. */
  async get(em: EntityManager, id: string): Promise<Alert | null> {
    if (!isUuid(id)) return null;
    return em.findOne(Alert, { id });
  }

  /**
   * Where an alert stands in the `seq` order, for resuming `alertRaised(after:)`: from the alert,
   * or from the sequence ledger when a restore removed it. Null for an id never handed out.
   */
  async seqOf(em: EntityManager, id: string): Promise<number | null> {
    if (!isUuid(id)) return null;
    const [row] = await em.execute<{ seq: string | number }[]>(
      'select seq from alert where id = ? union all select seq from alert_sequence_ledger where id = ? limit 1',
      [id, id],
    );
    return row ? Number(row.seq) : null;
  }

  /** A page of alerts, newest first (first seen, then id), with the filter applied. */
  async list(em: EntityManager, args: PageArgs & { filter?: AlertListFilter | null; direction?: ListDirection }): Promise<Page<Alert>> {
    const window = pageWindow(args);
    const filter = args.filter ?? {};
    if (filter.from && filter.to && filter.from > filter.to) throw new BadUserInputError('from must not be after to', 'filter.from');
    return listAlerts(em, window, filter, args.direction ?? 'desc');
  }

  /** ACTIVE → ACKNOWLEDGED by the actor; stops escalation. */
  async acknowledge(meta: RequestMeta, id: string): Promise<Alert> {
    return this.change(meta, id, 'ALERT_ACKNOWLEDGE', (alert) => {
      if (alert.status !== AlertStatus.ACTIVE) throw new ConflictError(`The alert is already ${alert.status.toLowerCase()}`, { status: alert.status });
      alert.status = AlertStatus.ACKNOWLEDGED;
      alert.acknowledgedAt = new Date();
      alert.acknowledgedById = meta.actor?.id ?? null;
    });
  }

  /** ACTIVE or ACKNOWLEDGED → RESOLVED; ends the silences that last until a matching alert resolves. */
  async resolve(meta: RequestMeta, id: string, resolution?: string | null): Promise<Alert> {
    const text = resolution?.trim() ? resolution.trim() : null;
    if (text && text.length > ALERT_LIMITS.message) throw new BadUserInputError(`resolution may have at most ${ALERT_LIMITS.message} characters`, 'resolution');
    return this.change(meta, id, 'ALERT_RESOLVE', async (alert, tx) => {
      if (alert.status === AlertStatus.RESOLVED) throw new ConflictError('The alert is already resolved', { status: alert.status });
      alert.status = AlertStatus.RESOLVED;
      alert.resolvedAt = new Date();
      alert.resolvedById = meta.actor?.id ?? null;
      alert.resolution = text;
      await this.endSilencesOf(tx, alert);
    });
  }

  /**
   * Resolves the unresolved alert with this fingerprint, if any (a health component recovered).
   * Returns null when there was nothing to resolve.
   */
  async resolveByFingerprint(meta: RequestMeta, fingerprint: string, resolution: string): Promise<Alert | null> {
    const open = await this.deps.orm.em.fork().findOne(Alert, { fingerprint, status: { $ne: AlertStatus.RESOLVED } }, { orderBy: { lastSeenAt: 'desc' } });
    if (!open) return null;
    try {
      return await this.resolve(meta, open.id, resolution);
    } catch (error) {
      if (error instanceof ConflictError) return null;
      throw error;
    }
  }

  /** Mutes delivery of matching alerts until `until`, or until a matching alert resolves. */
  async silence(meta: RequestMeta, data: SilenceData): Promise<AlertSilence> {
    const maxSeconds = this.deps.silenceMaxSeconds?.() ?? 7 * 24 * 3600;
    const latest = Date.now() + maxSeconds * 1000;
    if (data.until && data.until.getTime() > latest) {
      throw new BadUserInputError(`A silence lasts at most ${maxSeconds} seconds: until must be before ${new Date(latest).toISOString()}`, 'until');
    }
    // Without `until` a silence ends when a matching alert resolves, and at the latest after the
    // maximum (enforced where silences are matched).
    const matcher = validateSilence(data);
    const coversSecurity = silenceCoversSecurity(matcher);
    const silence = await this.deps.orm.em.fork().transactional(async (tx) => {
      const created = tx.create(AlertSilence, { id: randomUUID(), ...matcher, createdById: meta.actor?.id ?? null, createdAt: new Date() });
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'ALERT_SILENCE',
        resourceType: 'AlertSilence',
        resourceId: created.id,
        changes: { after: { ...matcher, until: matcher.until?.toISOString() ?? null, coversSecurity } },
      });
      return created;
    });
    if (coversSecurity) {
      // Its own source, so the silence it reports on does not match it (a silence without a source
      // still mutes its delivery, but it is recorded and published all the same).
      await this.raise(meta, {
        level: AlertLevel.WARNING,
        source: 'alerts',
        fingerprint: `alerts:security-silenced:${silence.id}`,
        title: 'Security alerts were silenced',
        message: `${meta.actor?.email ?? 'The system'} muted the delivery of security alerts until ${silence.until?.toISOString() ?? `a matching alert resolves (at most until ${new Date(latest).toISOString()})`}${silence.reason ? `: ${silence.reason}` : ''}.`,
        labels: { silenceId: silence.id, actorId: meta.actor?.id ?? null },
      });
    }
    return silence;
  }

  /**
   * Opens an investigation from an alert and links the two: the alert keeps the investigation's
   * id, the investigation names the alert as its trigger. One investigation per alert.
   */
  async openInvestigation(meta: RequestMeta, id: string): Promise<{ alert: Alert; investigationId: string }> {
    let investigationId = '';
    const alert = await this.change(meta, id, 'ALERT_OPEN_INVESTIGATION', async (locked, tx) => {
      if (locked.investigationId) {
        throw new ConflictError('An investigation is already open for this alert', { investigationId: locked.investigationId });
      }
      const investigation = await this.deps.openInvestigation(tx, meta, locked);
      locked.investigationId = investigation.id;
      investigationId = investigation.id;
    });
    return { alert, investigationId };
  }

  /**
   * Escalates every ERROR or CRITICAL alert left ACTIVE for longer than the escalation delay since
   * it was raised or last escalated; pushes and delivers each again. Runs on one instance at a time
   * (advisory lock); returns the escalated alerts.
   */
  async escalateDue(meta: RequestMeta): Promise<Alert[]> {
    const escalated = await this.deps.orm.em.fork().transactional(async (tx) => {
      const [lock] = await tx.execute<{ locked: boolean }[]>('select pg_try_advisory_xact_lock(?) as locked', [ALERT_LOCKS.escalation]);
      if (!lock?.locked) return [];
      const due = new Date(Date.now() - this.deps.escalationSeconds() * 1000);
      const rows = await tx.find(
        Alert,
        {
          status: AlertStatus.ACTIVE,
          level: { $in: [AlertLevel.ERROR, AlertLevel.CRITICAL] },
          $or: [{ escalatedAt: null, firstSeenAt: { $lte: due } }, { escalatedAt: { $lte: due } }],
        },
        { orderBy: { seq: 'asc' }, limit: 500, lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      const now = new Date();
      for (const alert of rows) {
        const before = snapshot(alert);
        alert.escalationLevel += 1;
        alert.escalatedAt = now;
        await this.deps.audit.record(tx, meta, { action: 'ALERT_ESCALATE', resourceType: 'Alert', resourceId: alert.id, changes: { before, after: snapshot(alert) } });
      }
      await tx.flush();
      return rows;
    });
    for (const alert of escalated) {
      this.publish(AlertTopic.UPDATED, alert);
      this.deps.deliverer.deliver(alert, 'ESCALATED');
    }
    if (escalated.length) this.deps.logger.warn({ alerts: escalated.map((a) => a.id) }, 'alerts escalated');
    return escalated;
  }

  /** Locks the alert, applies `apply`, audits before/after in the same transaction, then publishes. */
  private async change(
    meta: RequestMeta,
    id: string,
    action: string,
    apply: (alert: Alert, tx: EntityManager) => void | Promise<void>,
  ): Promise<Alert> {
    if (!isUuid(id)) throw new NotFoundError('Alert', id);
    const alert = await this.deps.orm.em.fork().transactional(async (tx) => {
      const locked = await tx.findOne(Alert, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!locked) throw new NotFoundError('Alert', id);
      const before = snapshot(locked);
      await apply(locked, tx);
      await tx.flush();
      await this.deps.audit.record(tx, meta, { action, resourceType: 'Alert', resourceId: locked.id, changes: { before, after: snapshot(locked) } });
      return locked;
    });
    this.publish(AlertTopic.UPDATED, alert);
    return alert;
  }

  private async endSilencesOf(tx: EntityManager, alert: Alert): Promise<void> {
    await tx.execute(
      `update alert_silence s set ended_at = now()
        where s.ended_at is null and s.until is null
          and (s.source is null or s.source = ?)
          and (s.level is null or s.level = ?)
          and (s.fingerprint is null or s.fingerprint = ?)
          and (s.labels is null or ?::jsonb @> s.labels)`,
      [alert.source, alert.level, alert.fingerprint, JSON.stringify(alert.labels ?? {})],
    );
  }

  private publish(topic: string, alert: Alert): void {
    const payload: AlertEventPayload = { id: alert.id, seq: alert.seq };
    try {
      this.deps.pubsub.publish(topic, payload);
    } catch (err) {
      // The alert is committed; subscribers still get it from the database (gap fill, `after`).
      this.deps.logger.warn({ err, topic, alertId: alert.id }, 'could not publish an alert event');
    }
  }
}

function text(value: string | null | undefined, field: string, max: number, required: boolean): string | null {
  const trimmed = value?.trim() ?? '';
  if (!trimmed) {
    if (required) throw new BadUserInputError(`${field} must not be empty`, field);
    return null;
  }
  if (trimmed.length > max) throw new BadUserInputError(`${field} may have at most ${max} characters`, field, { max });
  return trimmed;
}

function labelsOf(value: unknown, field: string): AlertLabels | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new BadUserInputError(`${field} must be a JSON object`, field);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > ALERT_LIMITS.labelKeys) throw new BadUserInputError(`${field} may have at most ${ALERT_LIMITS.labelKeys} keys`, field);
  if (Buffer.byteLength(JSON.stringify(value)) > ALERT_LIMITS.labelsBytes) {
    throw new BadUserInputError(`${field} may hold at most ${ALERT_LIMITS.labelsBytes} bytes`, field);
  }
  return value as AlertLabels;
}

function validateRaise(data: RaiseAlertData) {
  if (!ALERT_LEVELS.includes(data.level)) throw new BadUserInputError('level is not an alert level', 'level');
  const title = text(data.title, 'title', ALERT_LIMITS.title, true)!;
  const source = text(data.source, 'source', ALERT_LIMITS.source, false) ?? 'api';
  return {
    level: data.level,
    title,
    message: text(data.message, 'message', ALERT_LIMITS.message, false),
    source,
    fingerprint: text(data.fingerprint, 'fingerprint', ALERT_LIMITS.fingerprint, false) ?? defaultFingerprint(source, title),
    labels: labelsOf(data.labels, 'labels') ?? {},
  };
}

function validateSilence(data: SilenceData) {
  const matcher = {
    source: text(data.source, 'matcher.source', ALERT_LIMITS.source, false),
    level: data.level ?? null,
    fingerprint: text(data.fingerprint, 'matcher.fingerprint', ALERT_LIMITS.fingerprint, false),
    labels: labelsOf(data.labels, 'matcher.labels'),
  };
  if (!matcher.source && !matcher.level && !matcher.fingerprint && !matcher.labels) {
    throw new BadUserInputError('A silence needs at least one of source, level, fingerprint or labels', 'matcher');
  }
  if (data.until && data.until.getTime() <= Date.now()) throw new BadUserInputError('until must be in the future', 'until');
  return { ...matcher, until: data.until ?? null, reason: text(data.reason, 'reason', ALERT_LIMITS.message, false) };
}
