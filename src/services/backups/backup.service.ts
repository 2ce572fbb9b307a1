import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { RequestMeta } from '../../context';
import type { Backup } from '../../entities/backup.entity';
import type { BackupVerification } from '../../entities/backup-verification.entity';
import { BadUserInputError, ConflictError, NotFoundError, ServiceUnavailableError } from '../../errors';
import type { EntityManager } from '../../infra/db';
import type { QueueLimit } from '../../infra/pubsub';
import { BackupStatus, BackupTrigger, BackupVerificationKind } from '../../schema/backup.enums';
import type { Page } from '../../schema/connection';
import { BackupArchiver } from './backup-archive';
import type { BackupListArgs } from './backup-catalog';
import { BackupCatalog } from './backup-catalog';
import { BACKUP_LOCKS, openDedicatedConnection, tryLock } from './backup-connection';
import { BackupContext, type BackupServiceDeps } from './backup-context';
import { BACKUP_EVENTS, message, type BackupProgressEvent } from './backup-events';
import { OperationLedger } from './backup-operations';
import { backupProgress, backupProgressNow } from './backup-progress';
import { BackupReconciler, type Reconciliation } from './backup-reconciler';
import { asRestoreError, BackupRestorer, type RestoreOutcome, type WriteFence } from './backup-restore';
import { BackupScheduler } from './backup-scheduler';
import { BackupVerifier } from './backup-verify';
import { currentSchemaVersion } from './pg-catalog';
import type { BackupToolStatus } from './pg-tools';

export { BACKUP_EVENTS } from './backup-events';
export type { BackupPhase, BackupProgressEvent } from './backup-events';
export type { AuditRecorder, BackupServiceDeps } from './backup-context';
export type { RestoreOutcome, WriteFence } from './backup-restore';

/**
 * Backups of the whole database with PostgreSQL's own pg_dump (custom format, compressed, one
 * snapshot), verified by checksum and trial restore, restored behind a safety backup, expired by
 * retention. One backup or restore at a time across all instances (a session advisory lock). Every
 * operation has a start record and an outcome; an instance cleans up after dead ones at start.
 * The work is done by small modules (archive, verify, restore, catalog, reconciler, schedule);
 * this class is the area's one entry point.
 */
export class BackupService {
  private readonly ctx: BackupContext;
  private readonly catalog: BackupCatalog;
  private readonly archiver: BackupArchiver;
  private readonly verifier: BackupVerifier;
  private readonly restorer: BackupRestorer;
  private readonly reconciler: BackupReconciler;
  private readonly scheduler: BackupScheduler;
  private readonly startedAt = new Date();

  constructor(deps: BackupServiceDeps & { fence?: WriteFence | null }) {
    this.ctx = new BackupContext(deps);
    const ledger = new OperationLedger(deps.instanceId);
    this.catalog = new BackupCatalog(this.ctx);
    this.archiver = new BackupArchiver(this.ctx, ledger, (client) => this.catalog.applyRetention(client));
    this.verifier = new BackupVerifier(this.ctx, ledger);
    this.restorer = new BackupRestorer(this.ctx, ledger, this.archiver, deps.fence ?? null);
    this.reconciler = new BackupReconciler(this.ctx);
    this.scheduler = new BackupScheduler(this, this.schedules(), deps.logger);
  }

  private schedules(): { backup: string | null; drill: string | null } {
    const { schedule, drillSchedule } = this.ctx.policy();
    return { backup: schedule, drill: drillSchedule };
  }

  /**
   * Re-arms the backup and drill schedules from the policy in force (after a settings change);
   * nothing happens when they are the same. Work already running is not touched.
   */
  reschedule(): void {
    this.scheduler.reschedule(this.schedules());
  }

  /**
   * Cleans up after instances that died mid-operation, lists any archive in the backup directory
   * the database does not know yet, and starts the backup, restore-drill and freshness schedules.
   */
  start(): void {
    this.ctx.stopping = false;
    this.scheduler.start();
    this.ctx
      .track(
        (async () => {
          await this.reconciler.reconcile();
          await this.catalog.rescan();
        })(),
      )
      .catch((err: unknown) => this.ctx.log.warn({ err }, 'could not reconcile the backup directory and operations'));
  }

  /** Closes the operations of dead instances and removes what they left behind (also run at start). */
  reconcile(): Promise<Reconciliation> {
    return this.reconciler.reconcile();
  }

  /** The backup directory (shared storage when several instances run). */
  get directory(): string {
    return this.ctx.directory;
  }

  /** Whether backups can run on this instance (for the health report). */
  async backupTool(): Promise<BackupToolStatus> {
    const found = await this.ctx.loadTools();
    if ('error' in found) {
      return { available: false, pgDump: null, pgRestore: null, version: null, serverMajor: this.ctx.serverMajor, detail: found.error };
    }
    const { tools } = found;
    return {
      available: true,
      pgDump: tools.pgDump,
      pgRestore: tools.pgRestore,
      version: tools.version,
      serverMajor: this.ctx.serverMajor,
      detail: `${tools.version} at ${tools.pgDump}`,
    };
  }

  /** When the newest successful backup finished; null if none has. */
  lastSuccessfulBackupAt(): Promise<Date | null> {
    return this.catalog.lastSuccessfulBackupAt();
  }

  /** Backups newest first (`startedAt` descending, ties by id), as a Relay page. */
  list(em: EntityManager, args: BackupListArgs): Promise<Page<Backup>> {
    return this.catalog.list(em, args);
  }

  get(em: EntityManager, id: string): Promise<Backup | null> {
    return this.catalog.get(em, id);
  }

  /** Verification evidence of several backups, newest first per backup (one query). */
  verificationsOf(em: EntityManager, backupIds: readonly string[]): Promise<Map<string, BackupVerification[]>> {
    return this.catalog.verificationsOf(em, backupIds);
  }

  /** Adds a row for every manifest on disk the table lacks; returns how many were added. */
  rescan(): Promise<number> {
    return this.catalog.rescan();
  }

  /**
   * Starts a backup and returns at once with status RUNNING; `backupProgress(id)` follows it.
   * @throws CONFLICT when another backup or restore runs (on any instance), SERVICE_UNAVAILABLE
   * when no matching pg_dump is installed.
   */
  async create(meta: RequestMeta, options: { label?: string | null; trigger?: BackupTrigger } = {}): Promise<Backup> {
    const { backup, done } = await this.begin(meta, { label: options.label ?? null, trigger: options.trigger ?? BackupTrigger.MANUAL });
    // The outcome reaches the client through backupProgress and the row; the archiver records failures itself.
    done.catch((err: unknown) => this.ctx.log.error({ err, backupId: backup.id }, 'backup ended with an unexpected error'));
    return backup;
  }

  /** Starts a backup and also hands back the promise of its end (for the CLI and the schedule). */
  async begin(
    meta: RequestMeta,
    options: { label: string | null; trigger: BackupTrigger; scheduledFor?: Date },
  ): Promise<{ backup: Backup; done: Promise<Backup> }> {
    const label = options.label?.trim() || null;
    if (label && label.length > 200) throw new BadUserInputError('label must be at most 200 characters', 'label');
    const tools = await this.ctx.requireTools();
    const lock = await tryLock(this.ctx.databaseUrl, BACKUP_LOCKS.backup);
    if (!lock) throw new ConflictError('Another backup or restore is running; try again when it has finished');
    let started;
    try {
      // Holding the lock, nothing else backs up: what a dead instance left is cleaned first.
      await this.reconciler.reconcile().catch((err: unknown) => this.ctx.log.warn({ err }, 'could not reconcile before a backup'));
      started = await this.archiver.record(meta, lock.client, { ...options, label });
    } catch (error) {
      await lock.release();
      throw error;
    }
    const done = this.ctx.track(this.archiver.run(tools, lock.client, started, meta).finally(() => lock.release()));
    return { backup: started.backup, done };
  }

  /** The progress of a backup as its row tells it now; null for an unknown id. */
  progressNow(em: EntityManager, id: string): Promise<BackupProgressEvent | null> {
    return backupProgressNow(em, id);
  }

  /**
   * Progress of one backup: its current state, then every change until it ends; a consumer more
   * than `limit.maxQueue` events behind is cut off.
   */
  progress(id: string, limit: QueueLimit): AsyncGenerator<BackupProgressEvent> {
    return backupProgress(this.ctx.deps.orm, this.ctx.deps.pubsub, id, limit);
  }

  /**
   * Checks a backup: manifest, size and SHA-256, origin, the archive's table of contents, then a
   * trial restore into a scratch database (always dropped) whose row counts must equal the
   * manifest's. The result is kept as evidence.
   */
  async verify(meta: RequestMeta, id: string, options: { kind?: BackupVerificationKind; scheduledFor?: Date } = {}): Promise<BackupVerification> {
    const tools = await this.ctx.requireTools();
    const backup = await this.get(this.ctx.deps.orm.em.fork(), id);
    if (!backup) throw new NotFoundError('Backup', id);
    if (backup.status !== BackupStatus.SUCCEEDED) throw new ConflictError(`Backup ${id} is ${backup.status}; only a SUCCEEDED backup can be verified`);
    return this.ctx.track(this.verifier.verify(tools, meta, backup, options));
  }

  /**
   * Restores a backup into the live database (see `BackupRestorer`). Refuses, without touching the
   * database, a backup whose file fails its checks (checksum, size, origin, schema version).
   * @throws BAD_USER_INPUT (confirm, checks), NOT_FOUND, CONFLICT (another backup or restore
   * runs), SERVICE_UNAVAILABLE (no tools, or the restore could not start).
   */
  async restore(meta: RequestMeta, id: string, confirm: string): Promise<RestoreOutcome> {
    try {
      return await this.checkedRestore(meta, id, confirm);
    } catch (error) {
      // A database that went away during the checks is an outage, never an internal error.
      throw asRestoreError(error);
    }
  }

  private async checkedRestore(meta: RequestMeta, id: string, confirm: string): Promise<RestoreOutcome> {
    if (confirm !== id) throw new BadUserInputError('confirm must repeat the id of the backup to restore', 'confirm');
    const tools = await this.ctx.requireTools();
    const backup = await this.get(this.ctx.deps.orm.em.fork(), id);
    if (!backup) throw new NotFoundError('Backup', id);
    if (backup.status !== BackupStatus.SUCCEEDED) throw new ConflictError(`Backup ${id} is ${backup.status}; only a SUCCEEDED backup can be restored`);

    const { checks, manifest } = await this.verifier.fileChecks(tools, backup);
    if (manifest) {
      const client = await openDedicatedConnection(this.ctx.databaseUrl);
      const current = await currentSchemaVersion(client).finally(() => client.end().catch(() => undefined));
      checks.push({
        name: 'schemaVersion',
        ok: manifest.schemaVersion === current,
        detail:
          manifest.schemaVersion === current
            ? `${current}`
            : `the backup is at schema ${manifest.schemaVersion ?? 'none'}, the database at ${current ?? 'none'}: restore it with the Vigil version that made it`,
      });
    }
    const failed = checks.filter((c) => !c.ok);
    if (!manifest || failed.length) {
      throw new BadUserInputError(`Backup ${id} cannot be restored: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`, 'id', {
        checks: failed,
      });
    }

    const lock = await tryLock(this.ctx.databaseUrl, BACKUP_LOCKS.backup);
    if (!lock) throw new ConflictError('Another backup or restore is running; try again when it has finished');
    return this.ctx.track(this.restorer.run(tools, lock, meta, backup).finally(() => lock.release()));
  }

  /** Deletes a backup's files and row. @throws CONFLICT while it (or any backup or restore) runs. */
  delete(meta: RequestMeta, id: string): Promise<boolean> {
    return this.catalog.delete(meta, id);
  }

  /**
   * The scheduled backup of one schedule slot. However many instances run it for the same slot,
   * one backup results: the backup lock lets one in at a time, and `scheduled_for` is unique.
   * Returns the finished backup, or null when another instance has this slot.
   */
  async runScheduledBackup(slot: Date, meta: RequestMeta): Promise<Backup | null> {
    try {
      const { done } = await this.begin(meta, { label: `scheduled ${slot.toISOString()}`, trigger: BackupTrigger.SCHEDULED, scheduledFor: slot });
      return await done;
    } catch (error) {
      if (error instanceof ConflictError || error instanceof UniqueConstraintViolationException) return null;
      if (error instanceof ServiceUnavailableError) {
        this.ctx.publish(BACKUP_EVENTS.FAILED, { id: null, kind: 'BACKUP', trigger: BackupTrigger.SCHEDULED, error: error.message });
      }
      throw error;
    }
  }

  /**
   * A restore drill of one schedule slot: verifies the newest successful backup with a trial
   * restore and keeps the result as evidence; one instance per slot. Publishes BACKUP_FAILED when
   * the drill fails or there is nothing to drill. Returns null when another instance has the slot.
   */
  async runDrill(slot: Date, meta: RequestMeta): Promise<BackupVerification | null> {
    const lock = await tryLock(this.ctx.databaseUrl, BACKUP_LOCKS.drill);
    if (!lock) return null;
    try {
      const { rows: done } = await lock.client.query('select 1 from backup_verification where scheduled_for = $1', [slot]);
      if (done.length) return null;
      const { rows } = await lock.client.query<{ id: string }>(
        `select id from backup where status = 'SUCCEEDED' order by started_at desc, id desc limit 1`,
      );
      if (!rows[0]) {
        this.ctx.publish(BACKUP_EVENTS.FAILED, { id: null, kind: 'DRILL', trigger: null, error: 'there is no successful backup to drill' });
        return null;
      }
      let verification: BackupVerification;
      try {
        verification = await this.verify(meta, rows[0].id, { kind: BackupVerificationKind.DRILL, scheduledFor: slot });
      } catch (error) {
        this.ctx.publish(BACKUP_EVENTS.FAILED, { id: rows[0].id, kind: 'DRILL', trigger: null, error: message(error) });
        throw error;
      }
      if (!verification.ok) {
        const failed = verification.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? ''}`);
        this.ctx.publish(BACKUP_EVENTS.FAILED, { id: rows[0].id, kind: 'DRILL', trigger: null, error: failed.join('; ') });
      }
      return verification;
    } finally {
      await lock.release();
    }
  }

  /**
   * Publishes BACKUP_STALE when no backup succeeded within `VIGIL_BACKUP_MAX_AGE_HOURS` (counted
   * from this instance's start when there has never been one). Returns whether it was stale.
   */
  async checkFreshness(now = new Date()): Promise<boolean> {
    const lock = await tryLock(this.ctx.databaseUrl, BACKUP_LOCKS.staleness);
    if (!lock) return false;
    try {
      const last = await this.lastSuccessfulBackupAt();
      const maxAgeHours = this.ctx.policy().maxAgeHours;
      const reference = last ?? this.startedAt;
      const stale = now.getTime() - reference.getTime() > maxAgeHours * 3600 * 1000;
      if (stale) this.ctx.publish(BACKUP_EVENTS.STALE, { lastSuccessfulAt: last?.toISOString() ?? null, maxAgeHours });
      return stale;
    } finally {
      await lock.release();
    }
  }

  /** Ends background work: running pg_dump / pg_restore processes are stopped, then awaited. */
  async stop(): Promise<void> {
    this.scheduler.stop();
    this.ctx.stopping = true;
    this.ctx.stopTools();
    await this.ctx.idle();
  }

  /** Waits for backups and restores this instance started (tests, the CLI). */
  idle(): Promise<void> {
    return this.ctx.idle();
  }
}
