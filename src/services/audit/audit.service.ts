import { createHash, randomUUID } from 'node:crypto';
import { IsolationLevel, type FilterQuery } from '@mikro-orm/core';
import { Cron } from 'croner';
import { systemMeta, type RequestMeta } from '../../context';
import { AuditLog } from '../../entities/audit-log.entity';
import { BadUserInputError } from '../../errors';
import type { EntityManager, MikroORM } from '../../infra/db';
import type { Logger } from '../../infra/logger';
import type { VigilPubSub } from '../../infra/pubsub';
import { cursorArgument, decodeCursor, keysetSql, pageWindow, toPage, type Page, type PageArgs } from '../../schema/connection';
import type { ListDirection } from '../../schema/list-order';
import { CHAIN_TIME_SQL, chainTime, entryHash, normalizeChanges, storableString, type JsonValue } from './audit-canonical';
import { isUuid } from '../../infra/ids';

/** How an audited attempt ended. */
export type AuditOutcome = 'SUCCESS' | 'DENIED' | 'FAILED';

/** What a service tells the audit trail about one change or security event. */
export interface AuditEntryInput {
  /** `INVESTIGATION_UPDATE`, `LOGIN_FAILED`, `PERMISSION_DENIED`, `PII_READ` … */
  action: string;
  /** @default 'SUCCESS' */
  outcome?: AuditOutcome;
  resourceType?: string | null;
  resourceId?: string | null;
  /** E.g. `{ before: {...}, after: {...} }`; personal data and credentials are masked here. */
  changes?: Record<string, unknown> | null;
  /** Why, e.g. the rule that denied. */
  reason?: string | null;
}

/** The outcome of a walk over the chain. */
export interface AuditChainVerification {
  ok: boolean;
  /** Entries checked (those after the retention anchor). */
  checkedCount: number;
  /** The first entry that does not verify (or the seq where a removed entry was), null when ok. */
  firstBrokenSeq: string | null;
}

/** The last verification, as the health component shows it. */
export interface AuditVerificationRecord extends AuditChainVerification {
  at: Date;
}

/** Topic published when a verification finds the chain broken; payload `{ firstBrokenSeq }`. */
export const AUDIT_CHAIN_BROKEN = 'AUDIT_CHAIN_BROKEN';
/** Topic published after every security event; payload `{ eventId, action, outcome, actorId, resourceId, ip }`. */
export const SECURITY_EVENT = 'SECURITY_EVENT';
/** Topic that keeps every instance's {@link AuditService.lastVerification} current. */
export const AUDIT_CHAIN_VERIFIED = 'AUDIT_CHAIN_VERIFIED';

/**
 * Advisory lock keys. Appends take the chain lock for the rest of the caller's transaction, so
 * the chain never forks; the jobs take theirs so that only one instance runs them.
 */
export const AUDIT_LOCKS = {
  chain: 7_310_443_001,
  retention: 7_310_443_002,
  verification: 7_310_443_003,
} as const;

/** Rows per batch when walking, exporting or pruning the chain. */
export const AUDIT_BATCH_SIZE = 5_000;

const LIMITS = { action: 200, resource: 500, email: 320, role: 50, ip: 100, userAgent: 1_000, requestId: 200, operation: 200, reason: 2_000 };

/** An entry's row as {@link AUDIT_ROW_COLUMNS} reads it (snake case, `bigint` as string). */
export interface AuditRow {
  id: string;
  seq: string;
  /** In the {@link chainTime} format. */
  at: string;
  actor_id: string | null;
  actor_email: string | null;
  actor_role: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  outcome: string;
  changes: JsonValue;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  operation_name: string | null;
  reason: string | null;
  hash: string;
  prev_hash: string | null;
}

/** The select list that reads an {@link AuditRow}. */
export const AUDIT_ROW_COLUMNS = `id, seq, ${CHAIN_TIME_SQL('at')} as at, actor_id, actor_email, actor_role, action,
  resource_type, resource_id, outcome, changes, ip, user_agent, request_id, operation_name, reason, hash, prev_hash`;

/** The hash a row should carry, recomputed from its stored content. */
export function rowHash(row: AuditRow): string {
  return entryHash({
    seq: String(row.seq),
    at: row.at,
    actorId: row.actor_id,
    actorEmail: row.actor_email,
    actorRole: row.actor_role,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    outcome: row.outcome,
    changes: row.changes ?? null,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    operationName: row.operation_name,
    reason: row.reason,
    prevHash: row.prev_hash,
  });
}

const optional = (value: string | null | undefined, max: number) =>
  value === null || value === undefined ? null : storableString(String(value), max);

/** What `auditLogs` and `exportAuditLogs` select by; every criterion is optional and they combine. */
export interface AuditLogQuery {
  actorId?: string | null;
  action?: string | null;
  resourceType?: string | null;
  resourceId?: string | null;
  outcome?: AuditOutcome | null;
  /** Entries at or after this time. */
  from?: Date | null;
  /** Entries before this time. */
  to?: Date | null;
  /** Case-insensitive substring of the action, resource type or id, actor email or reason. */
  text?: string | null;
}

/** A JSON Lines export of audit entries, oldest first. */
export interface AuditExportResult {
  format: 'jsonl';
  count: number;
  content: string;
  /** SHA-256 (hex) of `content`. */
  sha256: string;
}

/** What one retention run removed. */
export interface AuditRetentionResult {
  removed: number;
  /** The chain's new anchor (the last removed entry), or null when nothing was old enough. */
  anchorSeq: string | null;
}

/** The most entries one export may hold; a larger range is refused with a hint to narrow it. */
export const MAX_EXPORT_ENTRIES = 100_000;

export interface AuditServiceDeps {
  orm: MikroORM;
  pubsub: VigilPubSub;
  logger: Logger;
  /**
   * Entries older than this many days are removed by {@link AuditService.applyRetention}; 0 keeps
   * all. A function is read at each run (live settings). @default 365
   */
  retentionDays?: number | (() => number);
  /** Cron (UTC) of the retention job; null: off. */
  retentionSchedule?: string | null;
  /** Cron (UTC) of the scheduled chain verification; null: off. */
  verifySchedule?: string | null;
}

const SEQ = /^[1-9]\d{0,18}$/;

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The GraphQL-independent form of an entry, as one export line. */
function exportLine(e: AuditLog): string {
  return JSON.stringify({
    id: e.id,
    seq: e.seq,
    at: chainTime(e.at),
    actorId: e.actorId,
    actorEmail: e.actorEmail,
    actorRole: e.actorRole,
    action: e.action,
    resourceType: e.resourceType,
    resourceId: e.resourceId,
    outcome: e.outcome,
    changes: e.changes,
    ip: e.ip,
    userAgent: e.userAgent,
    requestId: e.requestId,
    operationName: e.operationName,
    reason: e.reason,
    hash: e.hash,
    prevHash: e.prevHash,
  });
}

/**
 * Writes and checks the audit trail. Every entry is appended under one advisory lock inside the
 * caller's transaction: it reads the chain head (last entry, or the retention anchor), and
 * inserts `seq + 1` with `prevHash` = the head's hash. The lock is held until that transaction
 * ends, so callers should record their entry as the last step before committing.
 */
export class AuditService {
  private last: AuditVerificationRecord | null = null;
  private verifying: Promise<AuditChainVerification> | null = null;
  private jobs: Cron[] = [];
  private refreshedAt = 0;
  private verifiedEvents: (() => void) | null = null;

  constructor(private readonly deps: AuditServiceDeps) {}

  /**
   * Appends an entry inside the caller's transaction:
   * `await em.transactional(async (tx) => { …change…; await audit.record(tx, meta, entry) })`.
   * If it fails, the caller's transaction fails with it; if that transaction rolls back, the entry
   * goes with it. An EntityManager outside a transaction gets one of its own.
   */
  async record(em: EntityManager, meta: RequestMeta, entry: AuditEntryInput): Promise<void> {
    if (!em.isInTransaction()) {
      await em.transactional((tx) => this.append(tx, meta, entry));
      return;
    }
    await this.append(em, meta, entry);
  }

  /**
   * Records a security event (sign-in failure, denial, PII read …) in a transaction of its own,
   * so it is kept even when the request itself fails. Never throws: a failure is logged.
   */
  async recordSecurityEvent(meta: RequestMeta, entry: AuditEntryInput): Promise<void> {
    try {
      await this.deps.orm.em.fork().transactional((tx) => this.append(tx, meta, entry));
    } catch (err) {
      this.deps.logger.error({ err, action: entry.action, requestId: meta.requestId }, 'could not record a security event');
    }
    this.announceSecurityEvent(meta, entry);
  }

  /**
   * Publishes a security event for the alert sources without writing an entry: for a change whose
   * audit entry was recorded in its own transaction (call it after that commits). Never throws.
   */
  announceSecurityEvent(meta: RequestMeta, entry: AuditEntryInput): void {
    // Alerts watch security events (lockouts, token reuse, repeated denials) on this topic.
    try {
      this.deps.pubsub.publish(SECURITY_EVENT, {
        eventId: randomUUID(),
        action: entry.action,
        outcome: entry.outcome ?? 'SUCCESS',
        actorId: meta.actor?.id ?? null,
        resourceId: entry.resourceId ?? null,
        ip: meta.ip,
      });
    } catch (err) {
      this.deps.logger.warn({ err, action: entry.action }, 'could not publish a security event');
    }
  }

  private async append(em: EntityManager, meta: RequestMeta, entry: AuditEntryInput): Promise<void> {
    if (typeof entry.action !== 'string' || entry.action.trim() === '') {
      throw new TypeError('an audit entry needs an action');
    }
    type Head = { head_seq: string | null; head_hash: string | null; head_at_ms: string | null; isolation: string };
    const [head] = await em.execute<Head[]>(
      `select head_seq, head_hash, head_at_ms, isolation from vigil_audit_chain_head(${AUDIT_LOCKS.chain})`,
    );
    // Under REPEATABLE READ or SERIALIZABLE the head would come from the transaction's snapshot,
    // not from the latest commit, and the appended seq would collide.
    if (head?.isolation !== 'read committed') {
      throw new Error(`audit entries are appended under READ COMMITTED, not ${head?.isolation}`);
    }
    const seq = head.head_seq ? (BigInt(head.head_seq) + 1n).toString() : '1';
    const prevHash = head.head_hash ?? null;
    // Keep time monotonic along the chain even when instances' clocks disagree slightly, so that
    // retention (which removes a prefix) and time filters agree with seq order.
    const now = Date.now();
    const headMs = head.head_at_ms ? Number(head.head_at_ms) : 0;
    const at = new Date(Math.max(now, headMs));

    const actor = meta.actor;
    const changes = entry.changes === null || entry.changes === undefined ? null : normalizeChanges(entry.changes);
    const content = {
      seq,
      at: chainTime(at),
      actorId: actor?.id ?? null,
      actorEmail: optional(actor?.email, LIMITS.email),
      actorRole: optional(actor?.role, LIMITS.role),
      action: storableString(entry.action.trim(), LIMITS.action),
      resourceType: optional(entry.resourceType, LIMITS.resource),
      resourceId: optional(entry.resourceId, LIMITS.resource),
      outcome: entry.outcome ?? 'SUCCESS',
      changes,
      ip: optional(meta.ip, LIMITS.ip),
      userAgent: optional(meta.userAgent, LIMITS.userAgent),
      requestId: optional(meta.requestId, LIMITS.requestId),
      operationName: optional(meta.operationName, LIMITS.operation),
      reason: optional(entry.reason, LIMITS.reason),
      prevHash,
    };
    const hash = entryHash(content);
    await em.execute(
      `insert into audit_log (id, seq, at, actor_id, actor_email, actor_role, action, resource_type, resource_id,
         outcome, changes, ip, user_agent, request_id, operation_name, reason, hash, prev_hash)
       values (?, ?, ?::timestamptz, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?)`,
      [
        randomUUID(),
        seq,
        at.toISOString(),
        content.actorId,
        content.actorEmail,
        content.actorRole,
        content.action,
        content.resourceType,
        content.resourceId,
        content.outcome,
        changes === null ? null : JSON.stringify(changes),
        content.ip,
        content.userAgent,
        content.requestId,
        content.operationName,
        content.reason,
        hash,
        prevHash,
      ],
      'run',
    );
  }

  /**
   * The last verification of the chain (by any instance or the CLI), or null before the first.
   * Answers from memory; other instances' results arrive on {@link AUDIT_CHAIN_VERIFIED}, and the
   * stored result is re-read in the background at most once a minute (for the CLI's runs).
   */
  lastVerification(): AuditVerificationRecord | null {
    if (this.jobs.length || this.verifiedEvents) {
      const now = Date.now();
      if (now - this.refreshedAt > 60_000) {
        this.refreshedAt = now;
        void this.refreshLastVerification().catch((err) =>
          this.deps.logger.warn({ err }, 'could not read the last audit chain verification'),
        );
      }
    }
    return this.last;
  }

  /** Re-reads the last verification from the database. */
  async refreshLastVerification(): Promise<AuditVerificationRecord | null> {
    const [row] = await this.deps.orm.em
      .fork()
      .execute<{ at_ms: string; ok: boolean; checked_count: string; first_broken_seq: string | null }[]>(
        `select floor(extract(epoch from at) * 1000)::bigint as at_ms, ok, checked_count, first_broken_seq
         from audit_verification where id = 1`,
      );
    const stored = row
      ? { at: new Date(Number(row.at_ms)), ok: row.ok, checkedCount: Number(row.checked_count), firstBrokenSeq: row.first_broken_seq }
      : null;
    if (stored && (!this.last || stored.at >= this.last.at)) this.last = stored;
    return this.last;
  }

  /**
   * Walks the chain from the retention anchor in batches of {@link AUDIT_BATCH_SIZE}, inside one
   * read-only snapshot: recomputes every hash, checks every `prevHash` link and that seq has no
   * gap, and that the entry seen last time is still there unchanged (so removing the newest
   * entries is detected too). Records the result, and announces a broken chain on
   * {@link AUDIT_CHAIN_BROKEN}. Concurrent calls in one process share one walk.
   */
  verifyChain(): Promise<AuditChainVerification> {
    this.verifying ??= this.walkAndRecord().finally(() => {
      this.verifying = null;
    });
    return this.verifying;
  }

  private async walkAndRecord(): Promise<AuditChainVerification> {
    const { result, lastSeq, lastHash } = await this.walk();
    const previous = await this.saveVerification(result, lastSeq, lastHash);
    if (!result.ok) {
      this.deps.logger.error({ firstBrokenSeq: result.firstBrokenSeq }, 'the audit chain is broken');
      this.deps.pubsub.publish(AUDIT_CHAIN_BROKEN, { firstBrokenSeq: result.firstBrokenSeq });
      if (previous?.ok !== false || previous.firstBrokenSeq !== result.firstBrokenSeq) {
        await this.recordSecurityEvent(
          systemMeta('verifyAuditChain'),
          {
            action: 'AUDIT_CHAIN_BROKEN',
            outcome: 'FAILED',
            resourceType: 'AuditLog',
            resourceId: result.firstBrokenSeq,
            reason: `entry ${result.firstBrokenSeq} does not verify`,
          },
        );
      }
    }
    return result;
  }

  private async walk(): Promise<{ result: AuditChainVerification; lastSeq: string | null; lastHash: string | null }> {
    return this.deps.orm.em.fork().transactional(
      async (tx) => {
        const [anchor] = await tx.execute<{ seq: string; hash: string }[]>('select seq, hash from audit_anchor where id = 1');
        const [checkpoint] = await tx.execute<{ last_seq: string | null; last_hash: string | null }[]>(
          'select last_seq, last_hash from audit_verification where id = 1',
        );
        let expectedSeq = anchor ? BigInt(anchor.seq) + 1n : 1n;
        let expectedPrev: string | null = anchor?.hash ?? null;
        let checked = 0;
        let broken: bigint | null = null;
        let lastHash: string | null = anchor?.hash ?? null;
        const checkpointSeq = checkpoint?.last_seq ? BigInt(checkpoint.last_seq) : null;

        walk: for (;;) {
          const rows = await tx.execute<AuditRow[]>(
            `select ${AUDIT_ROW_COLUMNS} from audit_log where seq > ? order by seq limit ${AUDIT_BATCH_SIZE}`,
            [(expectedSeq - 1n).toString()],
          );
          for (const row of rows) {
            const seq = BigInt(row.seq);
            if (seq !== expectedSeq) {
              broken = expectedSeq;
              break walk;
            }
            checked++;
            if (row.prev_hash !== expectedPrev || rowHash(row) !== row.hash) {
              broken = seq;
              break walk;
            }
            if (checkpointSeq === seq && checkpoint?.last_hash !== row.hash) {
              broken = seq;
              break walk;
            }
            expectedPrev = row.hash;
            lastHash = row.hash;
            expectedSeq = seq + 1n;
          }
          if (rows.length < AUDIT_BATCH_SIZE) break;
        }
        const lastSeq = expectedSeq - 1n;
        if (broken === null && checkpointSeq !== null && checkpointSeq > lastSeq) broken = lastSeq + 1n;
        const ok = broken === null;
        return {
          result: { ok, checkedCount: checked, firstBrokenSeq: broken === null ? null : broken.toString() },
          lastSeq: lastSeq > 0n ? lastSeq.toString() : null,
          lastHash,
        };
      },
      { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
    );
  }

  /** Stores a result; the checkpoint (last seq and hash) moves only on a successful walk. */
  private async saveVerification(
    result: AuditChainVerification,
    lastSeq: string | null,
    lastHash: string | null,
  ): Promise<AuditVerificationRecord | null> {
    const previous = this.last;
    const at = new Date();
    await this.deps.orm.em.fork().execute(
      `insert into audit_verification (id, at, ok, checked_count, first_broken_seq, last_seq, last_hash)
       values (1, ?::timestamptz, ?, ?, ?, ?, ?)
       on conflict (id) do update set at = excluded.at, ok = excluded.ok, checked_count = excluded.checked_count,
         first_broken_seq = excluded.first_broken_seq,
         last_seq = case when excluded.ok then excluded.last_seq else audit_verification.last_seq end,
         last_hash = case when excluded.ok then excluded.last_hash else audit_verification.last_hash end`,
      [at.toISOString(), result.ok, result.checkedCount, result.firstBrokenSeq, lastSeq, lastHash],
      'run',
    );
    this.last = { ...result, at };
    this.deps.pubsub.publish(AUDIT_CHAIN_VERIFIED, { ...result, at: at.toISOString() });
    return previous;
  }

  /**
   * Starts the schedules (retention, verification) and keeps {@link lastVerification} in step
   * with the other instances. Each scheduled run takes a Postgres advisory lock, so it runs on
   * one instance at a time.
   */
  start(): void {
    if (this.jobs.length || this.verifiedEvents) return;
    this.refreshedAt = Date.now();
    void this.refreshLastVerification().catch((err) =>
      this.deps.logger.warn({ err }, 'could not read the last audit chain verification'),
    );
    const job = (pattern: string, name: string, fn: () => Promise<unknown>) =>
      new Cron(pattern, { timezone: 'UTC', protect: true, unref: true }, async () => {
        try {
          await fn();
        } catch (err) {
          this.deps.logger.error({ err, job: name }, 'scheduled audit job failed');
        }
      });
    if (this.deps.retentionSchedule) this.jobs.push(job(this.deps.retentionSchedule, 'retention', () => this.applyRetention()));
    if (this.deps.verifySchedule) this.jobs.push(job(this.deps.verifySchedule, 'verification', () => this.runScheduledVerification()));

    this.verifiedEvents = this.deps.pubsub.listen<{ ok: boolean; checkedCount: number; firstBrokenSeq: string | null; at: string }>(
      AUDIT_CHAIN_VERIFIED,
      (p) => {
        const at = new Date(p.at);
        if (Number.isNaN(at.getTime())) return;
        if (!this.last || at > this.last.at) {
          this.last = { ok: p.ok, checkedCount: p.checkedCount, firstBrokenSeq: p.firstBrokenSeq, at };
        }
      },
    );
  }

  /** Stops the schedules; a run in progress finishes on its own. */
  async stop(): Promise<void> {
    for (const job of this.jobs) job.stop();
    this.jobs = [];
    this.verifiedEvents?.();
    this.verifiedEvents = null;
  }

  /** Runs `fn` while holding a transaction-scoped advisory lock; null when another instance holds it. */
  private exclusively<T>(key: number, fn: () => Promise<T>): Promise<T | null> {
    return this.deps.orm.em.fork().transactional(async (lockTx) => {
      const [row] = await lockTx.execute<{ locked: boolean }[]>(`select pg_try_advisory_xact_lock(${key}) as locked`);
      return row?.locked ? fn() : null;
    });
  }

  /**
   * The scheduled verification: on one instance, and skipped when another instance verified the
   * chain in the last minute (its timer fired first).
   */
  async runScheduledVerification(): Promise<AuditChainVerification | null> {
    return this.exclusively(AUDIT_LOCKS.verification, async () => {
      const [recent] = await this.deps.orm.em
        .fork()
        .execute<{ recent: boolean }[]>(`select at > now() - interval '1 minute' as recent from audit_verification where id = 1`);
      if (recent?.recent) return null;
      return this.verifyChain();
    });
  }

  /**
   * Removes entries older than the retention period, oldest first, in batches; each batch moves
   * the anchor (the last removed entry's seq and hash) in the same transaction, so what remains
   * still verifies. Runs on one instance (null when another holds the job), records an
   * `AUDIT_RETENTION` entry when it removed something, and verifies the chain afterwards.
   */
  async applyRetention(now: Date = new Date()): Promise<AuditRetentionResult | null> {
    const setting = this.deps.retentionDays;
    const days = (typeof setting === 'function' ? setting() : setting) ?? 365;
    if (days <= 0) return { removed: 0, anchorSeq: null };
    const cutoff = new Date(now.getTime() - days * 24 * 3600 * 1000);
    const result = await this.exclusively(AUDIT_LOCKS.retention, async () => {
      let removed = 0;
      let anchorSeq: string | null = null;
      for (;;) {
        const batch = await this.deps.orm.em.fork().transactional(async (tx) => {
          await tx.execute(`select set_config('vigil.audit_retention', 'on', true)`);
          const rows = await tx.execute<{ seq: string; hash: string; old: boolean }[]>(
            `select seq, hash, at < ?::timestamptz as old from audit_log order by seq limit ${AUDIT_BATCH_SIZE}`,
            [cutoff.toISOString()],
          );
          const firstKept = rows.findIndex((r) => !r.old);
          const prefix = firstKept === -1 ? rows : rows.slice(0, firstKept);
          const last = prefix.at(-1);
          if (!last) return { count: 0, seq: null, more: false };
          await tx.execute('delete from audit_log where seq <= ?', [last.seq], 'run');
          await tx.execute(
            `insert into audit_anchor (id, seq, hash, removed_count, updated_at) values (1, ?, ?, ?, now())
             on conflict (id) do update set seq = excluded.seq, hash = excluded.hash,
               removed_count = audit_anchor.removed_count + excluded.removed_count, updated_at = now()`,
            [last.seq, last.hash, prefix.length],
            'run',
          );
          return { count: prefix.length, seq: last.seq, more: prefix.length === AUDIT_BATCH_SIZE };
        });
        removed += batch.count;
        anchorSeq = batch.seq ?? anchorSeq;
        if (!batch.more) break;
      }
      return { removed, anchorSeq };
    });
    if (result && result.removed > 0) {
      this.deps.logger.info({ ...result, cutoff }, 'audit retention removed old entries');
      await this.recordSecurityEvent(systemMeta('auditRetention'), {
        action: 'AUDIT_RETENTION',
        resourceType: 'AuditLog',
        resourceId: result.anchorSeq,
        changes: { removed: result.removed, anchorSeq: result.anchorSeq, cutoff: cutoff.toISOString(), retentionDays: days },
      });
      await this.verifyChain();
    }
    return result;
  }

  private where(filter: AuditLogQuery | null | undefined): FilterQuery<AuditLog> {
    const f = filter ?? {};
    const where: Record<string, unknown> = {};
    if (f.actorId) {
      if (!isUuid(f.actorId)) throw new BadUserInputError('filter.actorId must be a user id', 'filter.actorId');
      where.actorId = f.actorId;
    }
    if (f.action) where.action = f.action;
    if (f.resourceType) where.resourceType = f.resourceType;
    if (f.resourceId) where.resourceId = f.resourceId;
    if (f.outcome) where.outcome = f.outcome;
    if (f.from || f.to) {
      if (f.from && f.to && f.from > f.to) throw new BadUserInputError('filter.from must not be after filter.to', 'filter.from');
      where.at = { ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lt: f.to } : {}) };
    }
    const text = f.text?.trim();
    if (text) {
      if (text.length > 200) throw new BadUserInputError('filter.text may be at most 200 characters', 'filter.text');
      const like = { $ilike: likePattern(storableString(text, 200)) };
      where.$or = [{ action: like }, { resourceType: like }, { resourceId: like }, { actorEmail: like }, { reason: like }];
    }
    return where as FilterQuery<AuditLog>;
  }

  /** A page of entries, newest first (seq descending), matching a filter. */
  async list(
    em: EntityManager,
    args: PageArgs & { filter?: AuditLogQuery | null; direction?: ListDirection },
  ): Promise<Page<AuditLog>> {
    const window = pageWindow(args);
    const { order, op } = keysetSql(args.direction ?? 'desc', window);
    const where = this.where(args.filter);
    let page = where;
    if (window.cursor) {
      const argument = cursorArgument(window);
      const [seq] = decodeCursor(window.cursor, 1, argument);
      if (typeof seq !== 'string' || !SEQ.test(seq)) throw new BadUserInputError(`${argument} is not a cursor this list gave out`, argument);
      page = { $and: [where, { seq: { [op === '<' ? '$lt' : '$gt']: seq } }] } as FilterQuery<AuditLog>;
    }
    const [rows, totalCount] = await Promise.all([
      window.size === 0 ? Promise.resolve([]) : em.find(AuditLog, page, { orderBy: { seq: order }, limit: window.size + 1 }),
      em.fork().count(AuditLog, where),
    ]);
    return toPage(rows, window, (row) => [String(row.seq)], totalCount);
  }

  /**
   * Exports the entries matching a filter as JSON Lines, oldest first, read in batches from one
   * snapshot; each line holds every stored field (with `at` as hashed), so the export can be
   * verified on its own. At most {@link MAX_EXPORT_ENTRIES}. The export is itself audited
   * (`AUDIT_EXPORT`, with the filter, the count and the content's SHA-256).
   */
  async exportLogs(meta: RequestMeta, filter: AuditLogQuery | null | undefined): Promise<AuditExportResult> {
    const where = this.where(filter);
    const result = await this.deps.orm.em.fork().transactional(
      async (tx) => {
        const count = await tx.count(AuditLog, where);
        if (count > MAX_EXPORT_ENTRIES) {
          throw new BadUserInputError(
            `The filter matches ${count} entries; an export holds at most ${MAX_EXPORT_ENTRIES}: narrow the time range`,
            'filter',
            { max: MAX_EXPORT_ENTRIES, count },
          );
        }
        const hash = createHash('sha256');
        const parts: string[] = [];
        let exported = 0;
        let after: string | null = null;
        for (;;) {
          const batchWhere: FilterQuery<AuditLog> = after === null ? where : ({ $and: [where, { seq: { $gt: after } }] } as FilterQuery<AuditLog>);
          const rows: AuditLog[] = await tx.find(AuditLog, batchWhere, {
            orderBy: { seq: 'asc' },
            limit: Math.min(AUDIT_BATCH_SIZE, MAX_EXPORT_ENTRIES - exported),
            disableIdentityMap: true,
          });
          for (const row of rows) {
            const line = `${exportLine(row)}\n`;
            hash.update(line);
            parts.push(line);
          }
          exported += rows.length;
          if (rows.length < AUDIT_BATCH_SIZE || exported >= MAX_EXPORT_ENTRIES) break;
          after = String(rows.at(-1)!.seq);
        }
        return { format: 'jsonl' as const, count: exported, content: parts.join(''), sha256: hash.digest('hex') };
      },
      { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
    );
    await this.record(this.deps.orm.em.fork(), meta, {
      action: 'AUDIT_EXPORT',
      resourceType: 'AuditLog',
      changes: { filter: { ...(filter ?? {}) }, count: result.count, sha256: result.sha256 },
    });
    return result;
  }
}
