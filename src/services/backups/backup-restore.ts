import { unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'pg';
import type { RequestMeta } from '../../context';
import type { Backup } from '../../entities/backup.entity';
import { isPublicError, ServiceUnavailableError } from '../../errors';
import { BackupStatus, BackupTrigger, RestoreDatabaseState } from '../../schema/backup.enums';
import { holdAlertSequence } from '../alerts/alert-sequence';
import type { BackupArchiver } from './backup-archive';
import type { BackupContext } from './backup-context';
import type { HeldLock } from './backup-connection';
import { BACKUP_EVENTS, PRESERVED_TABLES, message } from './backup-events';
import { backupFiles } from './backup-manifest';
import type { OperationLedger } from './backup-operations';
import { serverIdentity, tableFingerprint } from './pg-catalog';
import type { PgTools } from './pg-tools';
import { dependentObjects, restoreListWithout } from './restore-list';


/** What `restoreBackup` reports. */
export interface RestoreOutcome {
  ok: boolean;
  backup: Backup;
  safetyBackup: Backup | null;
  /** True when the restore failed and PostgreSQL rolled it back: the database is as it was before. */
  rolledBack: boolean;
  databaseState: RestoreDatabaseState;
  error: string | null;
  finishedAt: Date;
}

/**
 * Holds writes off on every instance for the length of a restore (the cluster's maintenance state).
 * `hold` returns once every instance refuses writes and in-flight writes have finished; the
 * returned function lifts it again.
 */
export interface WriteFence {
  hold(meta: RequestMeta, reason: string): Promise<() => Promise<void>>;
}

/** How often sessions in the restore's way are looked for while pg_restore runs. */
const CLEAR_INTERVAL_MS = 100;
/** How long pg_restore waits for one lock before giving up (and rolling back). */
const RESTORE_LOCK_TIMEOUT_MS = 30_000;

/**
 * Restores a backup into the live database, in one transaction (`pg_restore --single-transaction`):
 * either the whole backup is in place or nothing changed. Before it: writes are held off cluster
 * wide (when a fence is configured), a PRE_RESTORE safety backup is taken, and alert numbering is
 * pinned (see `holdAlertSequence`). While pg_restore runs, any session that blocks it is
 * terminated, again and again, so pools that reconnect at once cannot wedge it. The area's own
 * tables (`PRESERVED_TABLES`) are left out of the restore, so the operation record and the backup
 * list survive it. A failure is reported as what it is: PostgreSQL rolled the restore back and the
 * database is untouched; the safety backup is never restored over it (it may be older than writes
 * made since), it stays available to restore deliberately.
 */
export class BackupRestorer {
  constructor(
    private readonly ctx: BackupContext,
    private readonly ledger: OperationLedger,
    private readonly archiver: BackupArchiver,
    private readonly fence: WriteFence | null,
  ) {}

  /** Runs a restore holding `lock` (the backup lock); the checks on the backup are already done. */
  async run(tools: PgTools, lock: HeldLock, meta: RequestMeta, backup: Backup): Promise<RestoreOutcome> {
    const client = lock.client;
    const id = backup.id;
    const operationId = await this.ledger.begin(client, { kind: 'RESTORE', backupId: id, meta });
    let safety: Backup | null = null;
    let fingerprint: string | null = null;
    let lift: (() => Promise<void>) | null = null;
    const finish = async (outcome: Omit<RestoreOutcome, 'backup' | 'safetyBackup' | 'finishedAt'>): Promise<RestoreOutcome> => {
      const result: RestoreOutcome = { ...outcome, backup, safetyBackup: safety, finishedAt: new Date() };
      await this.record(client, operationId, meta, result);
      return result;
    };
    try {
      // Writes stop first: every moment before the fence is one in which another instance may
      // acknowledge a write the restore then replaces.
      lift = this.fence ? await this.fence.hold(meta, `restoring backup ${id}`) : null;
      await this.ctx.audit(meta, { action: 'BACKUP_RESTORE_START', resourceType: 'Backup', resourceId: id });
      const started = await this.archiver.record(meta, client, { label: `before restoring ${id}`, trigger: BackupTrigger.PRE_RESTORE });
      safety = await this.archiver.run(tools, client, started, meta);
      if (safety.status !== BackupStatus.SUCCEEDED) {
        return await finish({
          ok: false,
          rolledBack: false,
          databaseState: RestoreDatabaseState.UNCHANGED,
          error: `the safety backup failed (${safety.error ?? 'unknown error'}); nothing was restored`,
        });
      }
      const sequence = await holdAlertSequence(client);
      try {
        fingerprint = await tableFingerprint(client, PRESERVED_TABLES);
        await this.ledger.note(client, operationId, { fingerprint, safetyBackupId: safety.id });
        try {
          await this.pgRestore(tools, client, operationId, backupFiles(this.ctx.directory, id).archive);
        } catch (error) {
          const state = await this.stateAfterFailure(client, fingerprint);
          if (state !== RestoreDatabaseState.RESTORED) {
            return await finish({
              ok: false,
              rolledBack: state === RestoreDatabaseState.UNCHANGED,
              databaseState: state,
              error:
                state === RestoreDatabaseState.UNCHANGED
                  ? `${message(error)} (PostgreSQL rolled the restore back: the database is as it was before the attempt)`
                  : `${message(error)} (whether the restore committed could not be read: check the database)`,
            });
          }
          // The transaction committed and only the report of it was lost: the backup is in place.
          this.ctx.log.warn({ err: error, backupId: id }, 'pg_restore reported an error after its transaction committed');
        }
      } finally {
        await sequence.release().catch((err: unknown) => this.ctx.log.error({ err }, 'could not release the alert sequence'));
      }
      return await finish({ ok: true, rolledBack: false, databaseState: RestoreDatabaseState.RESTORED, error: null });
    } catch (error) {
      // Anything unforeseen (the database went away, the fence could not be held) still gets a
      // truthful answer and an outcome record, never a bare internal error.
      const state = fingerprint ? await this.stateAfterFailure(client, fingerprint) : RestoreDatabaseState.UNCHANGED;
      const reason = this.ctx.stopping ? 'interrupted: the instance shut down' : message(error);
      this.ctx.log.error({ err: error, backupId: id }, 'restore failed');
      if (isPublicError(error) && !safety) {
        await this.ledger.finish(client, operationId, 'FAILED', reason).catch(() => undefined);
        throw error;
      }
      return await finish({ ok: state === RestoreDatabaseState.RESTORED, rolledBack: state === RestoreDatabaseState.UNCHANGED, databaseState: state, error: reason });
    } finally {
      if (lift) await lift().catch((err: unknown) => this.ctx.log.error({ err }, 'could not lift the write fence after a restore'));
    }
  }

  /**
   * pg_restore of everything but the preserved tables, in one transaction; while it runs, sessions
   * that block it are terminated (pools reconnect at once, so once is not enough).
   */
  private async pgRestore(tools: PgTools, client: Client, operationId: string, archive: string): Promise<void> {
    const toc = await this.ctx.runTool(tools.pgRestore, ['--list', archive], this.ctx.toolEnv());
    const listFile = path.join(this.ctx.directory, `restore-${operationId}.list`);
    await writeFile(listFile, restoreListWithout(toc, PRESERVED_TABLES, await dependentObjects(client, PRESERVED_TABLES)), { mode: 0o600 });
    const application = `vigil-restore-${operationId.slice(0, 8)}`;
    try {
      const { database } = await serverIdentity(client);
      const tool = this.ctx.startTool(
        tools.pgRestore,
        ['--clean', '--if-exists', '--single-transaction', '--exit-on-error', '--no-password', `--use-list=${listFile}`, `--dbname=${database}`, archive],
        this.ctx.toolEnv(undefined, { PGAPPNAME: application, PGOPTIONS: `-c lock_timeout=${RESTORE_LOCK_TIMEOUT_MS}` }),
      );
      tool.stdout.resume();
      let ended = false;
      const done = tool.done.finally(() => {
        ended = true;
      });
      let terminated = 0;
      while (!ended) {
        terminated += await this.clearTheWay(client, application).catch(() => 0);
        await Promise.race([done.catch(() => undefined), delay(CLEAR_INTERVAL_MS)]);
      }
      if (terminated) this.ctx.log.warn({ terminated }, 'terminated sessions that blocked the restore');
      await done;
    } finally {
      await unlink(listFile).catch(() => undefined);
    }
  }

  /** Terminates every session pg_restore (known by its application name) waits for. */
  private async clearTheWay(client: Client, application: string): Promise<number> {
    const { rows } = await client.query<{ n: string }>(
      `select count(*) filter (where pg_terminate_backend(b)) as n
         from pg_stat_activity a, unnest(pg_blocking_pids(a.pid)) b
        where a.application_name = $1 and a.datname = current_database() and b <> pg_backend_pid()`,
      [application],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** RESTORED when the tables were replaced (the transaction committed), UNCHANGED when not. */
  private async stateAfterFailure(client: Client, before: string): Promise<RestoreDatabaseState> {
    try {
      return (await tableFingerprint(client, PRESERVED_TABLES)) === before ? RestoreDatabaseState.UNCHANGED : RestoreDatabaseState.RESTORED;
    } catch {
      return RestoreDatabaseState.UNKNOWN;
    }
  }

  /** The outcome record: operation closed, BACKUP_RESTORE audited, events published. */
  private async record(client: Client, operationId: string, meta: RequestMeta, result: RestoreOutcome): Promise<void> {
    const id = result.backup.id;
    const after = { safetyBackupId: result.safetyBackup?.id ?? null, databaseState: result.databaseState, rolledBack: result.rolledBack };
    try {
      if (await this.ledger.finish(client, operationId, result.ok ? 'SUCCEEDED' : 'FAILED', result.error)) {
        await this.ctx.audit(meta, {
          action: 'BACKUP_RESTORE',
          outcome: result.ok ? 'SUCCESS' : 'FAILED',
          resourceType: 'Backup',
          resourceId: id,
          reason: result.error,
          changes: { after },
        });
      }
    } catch (err) {
      // The operation stays RUNNING with its owner alive; the reconciler closes it once the owner is gone.
      this.ctx.log.error({ err, backupId: id }, 'could not record the outcome of a restore');
    }
    if (result.ok) {
      this.ctx.publish(BACKUP_EVENTS.RESTORED, { id, by: meta.actor?.email ?? 'system' });
      this.ctx.log.warn({ backupId: id, ...after, by: meta.actor?.email ?? 'system' }, 'database restored from a backup');
    } else {
      this.ctx.publish(BACKUP_EVENTS.FAILED, { id, kind: 'RESTORE', trigger: result.backup.trigger, error: result.error });
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wraps what is not already a deliberate GraphQL error, so a restore never answers INTERNAL_SERVER_ERROR. */
export function asRestoreError(error: unknown): Error {
  return isPublicError(error) ? error : new ServiceUnavailableError(`The restore could not run: ${message(error)}`);
}
