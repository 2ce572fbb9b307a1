import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'pg';
import { BackupStatus } from '../../schema/backup.enums';
import type { AuditEntryInput } from '../audit/audit.service';
import type { BackupContext } from './backup-context';
import { openDedicatedConnection, quoteIdent } from './backup-connection';
import { BACKUP_EVENTS, PRESERVED_TABLES } from './backup-events';
import { DEAD_OPERATIONS_SQL, type OperationRow } from './backup-operations';
import { scratchPrefix } from './backup-verify';
import { tableFingerprint } from './pg-catalog';

/** What one reconciliation found and did. */
export interface Reconciliation {
  /** Operations of dead instances closed as FAILED (or, for a restore that had committed, SUCCEEDED). */
  operations: string[];
  /** RUNNING backup rows nobody owns any more, now FAILED. */
  backups: string[];
  scratchDatabases: string[];
  files: string[];
}

/**
 * Cleans up after instances that died during a backup, verification or restore (SIGKILL, crash,
 * power): their operations are closed with an audit entry saying what happened, RUNNING backups
 * nobody owns become FAILED, and partial archives, restore lists and `vigil_verify_*` scratch
 * databases no live operation uses are removed. Safe to run on every instance at once: each
 * operation is closed by exactly one (a conditional update), and only what no live operation
 * names is removed. Their pg_dump and pg_restore processes are already gone: they die with their
 * parent (see `startTool`).
 */
export class BackupReconciler {
  constructor(private readonly ctx: BackupContext) {}

  async reconcile(): Promise<Reconciliation> {
    const result: Reconciliation = { operations: [], backups: [], scratchDatabases: [], files: [] };
    const client = await openDedicatedConnection(this.ctx.databaseUrl);
    try {
      const { rows } = await client.query<OperationRow>(DEAD_OPERATIONS_SQL);
      for (const op of rows) {
        if (await this.close(client, op)) result.operations.push(op.id);
      }
      const { rows: orphans } = await client.query<{ id: string }>(
        `update backup b set status = 'FAILED', finished_at = now(), error = 'interrupted: the instance running it stopped'
          where b.status = 'RUNNING'
            and not exists (select 1 from backup_operation o where o.backup_id = b.id and o.status = 'RUNNING')
        returning b.id`,
      );
      result.backups.push(...orphans.map((r) => r.id));
      result.scratchDatabases.push(...(await this.dropScratchDatabases(client)));
      result.files.push(...(await this.removeStrayFiles(client)));
    } finally {
      await client.end().catch(() => undefined);
    }
    if (result.operations.length || result.backups.length || result.scratchDatabases.length || result.files.length) {
      this.ctx.log.warn(result, 'cleaned up after interrupted backup operations');
    }
    return result;
  }

  /** Closes one dead operation and audits its outcome; false when another instance did it first. */
  private async close(client: Client, op: OperationRow): Promise<boolean> {
    const reason = `interrupted: instance ${op.instance_id} stopped during the ${op.kind.toLowerCase()}`;
    let status: 'FAILED' | 'SUCCEEDED' = 'FAILED';
    let entry: AuditEntryInput;
    if (op.kind === 'RESTORE') {
      // A restore is one transaction: it either committed (the tables were replaced) or not.
      const before = typeof op.detail.fingerprint === 'string' ? op.detail.fingerprint : null;
      const committed = before !== null && (await tableFingerprint(client, PRESERVED_TABLES)) !== before;
      status = committed ? 'SUCCEEDED' : 'FAILED';
      const detail = committed
        ? `${reason}, after the restore committed: the database holds the backup`
        : `${reason}; PostgreSQL rolled the restore back: the database is as it was before the attempt`;
      entry = {
        action: 'BACKUP_RESTORE',
        outcome: committed ? 'SUCCESS' : 'FAILED',
        resourceType: 'Backup',
        resourceId: op.backup_id,
        reason: detail,
        changes: { after: { safetyBackupId: op.detail.safetyBackupId ?? null, databaseState: committed ? 'RESTORED' : 'UNCHANGED', interrupted: true } },
      };
    } else if (op.kind === 'VERIFY') {
      entry = { action: 'BACKUP_VERIFY', outcome: 'FAILED', resourceType: 'Backup', resourceId: op.backup_id, reason };
    } else {
      entry = { action: 'BACKUP_COMPLETE', outcome: 'FAILED', resourceType: 'Backup', resourceId: op.backup_id, reason };
    }
    const closed = await this.ctx.deps.orm.em.fork().transactional(async (tx) => {
      const updated = await tx.execute<{ id: string }[]>(
        `update backup_operation set status = ?, finished_at = now(), error = ? where id = ? and status = 'RUNNING' returning id`,
        [status, status === 'FAILED' ? reason : null, op.id],
      );
      if (!updated.length) return false;
      if (op.kind === 'BACKUP' && op.backup_id) {
        await tx.execute(`update backup set status = 'FAILED', finished_at = now(), error = ? where id = ? and status = 'RUNNING'`, [
          reason,
          op.backup_id,
        ]);
      }
      await this.ctx.deps.audit.record(tx, { ...op.meta, operationName: op.meta.operationName ?? 'reconcile' }, entry);
      return true;
    });
    if (!closed) return false;
    if (op.kind === 'BACKUP' && op.backup_id) {
      await unlink(path.join(this.ctx.directory, `${op.backup_id}.dump.partial`)).catch(() => undefined);
      this.ctx.publishProgress({ id: op.backup_id, phase: 'FAILED', bytesWritten: 0, status: BackupStatus.FAILED, error: reason });
    }
    if (op.scratch_database) await this.dropDatabase(client, op.scratch_database);
    if (op.kind === 'RESTORE') {
      this.ctx.publish(
        status === 'SUCCEEDED' ? BACKUP_EVENTS.RESTORED : BACKUP_EVENTS.FAILED,
        status === 'SUCCEEDED' ? { id: op.backup_id, by: op.meta.actor?.email ?? 'system' } : { id: op.backup_id, kind: 'RESTORE', trigger: null, error: reason },
      );
    }
    return true;
  }

  /** Drops every scratch database of this database that no RUNNING verification names. */
  private async dropScratchDatabases(client: Client): Promise<string[]> {
    const { rows } = await client.query<{ name: string }>(
      `select datname as name from pg_database
        where datname like $1
          and datname not in (select scratch_database from backup_operation where status = 'RUNNING' and scratch_database is not null)`,
      [`${scratchPrefix(this.ctx.databaseUrl).replace(/_/g, '\\_')}%`],
    );
    const dropped: string[] = [];
    for (const { name } of rows) if (await this.dropDatabase(client, name)) dropped.push(name);
    return dropped;
  }

  private async dropDatabase(client: Client, name: string): Promise<boolean> {
    try {
      await client.query(`drop database if exists ${quoteIdent(name)} with (force)`);
      return true;
    } catch (err) {
      this.ctx.log.error({ err, database: name }, 'could not drop a scratch database');
      return false;
    }
  }

  /** Removes partial archives and restore lists that no RUNNING operation owns. */
  private async removeStrayFiles(client: Client): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.ctx.directory);
    } catch {
      return [];
    }
    const { rows } = await client.query<{ id: string; backup_id: string | null }>(
      `select id, backup_id from backup_operation where status = 'RUNNING'`,
    );
    const live = new Set(rows.flatMap((r) => [r.id, r.backup_id]).filter((x): x is string => x !== null));
    const stray = names.filter((name) => {
      const partial = /^([0-9a-f-]{36})\.(?:dump|manifest\.json)\.partial$/.exec(name);
      const list = /^restore-([0-9a-f-]{36})\.list$/.exec(name);
      const owner = partial?.[1] ?? list?.[1];
      return owner !== undefined && !live.has(owner);
    });
    for (const name of stray) await unlink(path.join(this.ctx.directory, name)).catch(() => undefined);
    return stray;
  }
}
