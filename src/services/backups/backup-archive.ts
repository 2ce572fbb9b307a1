import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import type { RequestMeta } from '../../context';
import { Backup } from '../../entities/backup.entity';
import { BackupStatus, BackupTrigger } from '../../schema/backup.enums';
import type { BackupContext } from './backup-context';
import { BACKUP_EVENTS, PRESERVED_TABLES, message, type BackupPhase } from './backup-events';
import { backupFiles, writeManifest, type BackupManifest } from './backup-manifest';
import type { OperationLedger } from './backup-operations';
import { countRows, currentSchemaVersion, serverIdentity } from './pg-catalog';
import type { PgTools } from './pg-tools';

const PROGRESS_INTERVAL_MS = 250;

/** A backup row just recorded, with the operation record that owns it. */
export interface StartedBackup {
  backup: Backup;
  operationId: string;
}

/**
 * Makes archives: pg_dump of one exported snapshot, streamed to `<id>.dump.partial` while hashed and
 * counted, renamed when complete, described by a manifest beside it and in the `backup` row.
 */
export class BackupArchiver {
  constructor(
    private readonly ctx: BackupContext,
    private readonly ledger: OperationLedger,
    /** Applies retention after a successful backup (under the backup lock `client` holds). */
    private readonly afterSuccess: (client: Client) => Promise<unknown>,
  ) {}

  /**
   * Records a RUNNING backup: the operation record first (owned by `client`'s session), then the
   * row and its BACKUP_CREATE audit entry in one transaction.
   */
  async record(
    meta: RequestMeta,
    client: Client,
    options: { label: string | null; trigger: BackupTrigger; scheduledFor?: Date },
  ): Promise<StartedBackup> {
    const em = this.ctx.deps.orm.em.fork();
    const backup = em.create(Backup, {
      label: options.label,
      trigger: options.trigger,
      scheduledFor: options.scheduledFor ?? null,
      createdById: meta.actor?.id ?? null,
    });
    const operationId = await this.ledger.begin(client, { kind: 'BACKUP', backupId: backup.id, meta });
    try {
      await em.transactional(async (tx) => {
        tx.persist(backup);
        await tx.flush();
        await this.ctx.deps.audit.record(tx, meta, {
          action: 'BACKUP_CREATE',
          resourceType: 'Backup',
          resourceId: backup.id,
          changes: { after: { label: backup.label, trigger: backup.trigger } },
        });
      });
    } catch (error) {
      await this.ledger.finish(client, operationId, 'FAILED', message(error)).catch(() => undefined);
      throw error;
    }
    return { backup, operationId };
  }

  /**
   * Dumps the database from one exported snapshot: row counts and schema version are read in the
   * same snapshot pg_dump uses, so the manifest describes exactly what the archive holds. Never
   * throws: a failure is recorded on the row, audited, published, and the row returned.
   */
  async run(tools: PgTools, client: Client, started: StartedBackup, meta: RequestMeta): Promise<Backup> {
    const { backup, operationId } = started;
    const dir = this.ctx.directory;
    const files = backupFiles(dir, backup.id);
    let bytes = 0;
    const progress = (phase: BackupPhase) =>
      this.ctx.publishProgress({ id: backup.id, phase, bytesWritten: bytes, status: BackupStatus.RUNNING, error: null });
    try {
      progress('STARTING');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await client.query('begin isolation level repeatable read read only');
      let inTransaction = true;
      try {
        const { rows: [snapshot] } = await client.query<{ id: string }>('select pg_export_snapshot() as id');
        progress('SNAPSHOT');
        // Counted on the exporting transaction (same snapshot) while pg_dump streams.
        const described = (async () => ({
          server: await serverIdentity(client),
          rowCounts: await countRows(client, PRESERVED_TABLES),
          schemaVersion: await currentSchemaVersion(client),
        }))();
        described.catch(() => undefined);

        progress('DUMPING');
        const hash = createHash('sha256');
        let lastPublished = 0;
        const meter = new Transform({
          transform: (chunk: Buffer, _enc, callback) => {
            hash.update(chunk);
            bytes += chunk.length;
            const now = Date.now();
            if (now - lastPublished >= PROGRESS_INTERVAL_MS) {
              lastPublished = now;
              progress('DUMPING');
            }
            callback(null, chunk);
          },
        });
        const dump = this.ctx.startTool(
          tools.pgDump,
          [
            '--format=custom',
            '--compress=6',
            `--snapshot=${snapshot!.id}`,
            '--no-password',
            ...PRESERVED_TABLES.map((t) => `--exclude-table-data=${t}`),
          ],
          this.ctx.toolEnv(),
        );
        await Promise.all([pipeline(dump.stdout, meter, createWriteStream(files.partial, { mode: 0o600, flush: true })), dump.done]);
        const { server, rowCounts, schemaVersion } = await described;
        await client.query('commit');
        inTransaction = false;

        progress('FINALIZING');
        const written = await stat(files.partial);
        if (written.size !== bytes) throw new Error(`wrote ${bytes} bytes but the file has ${written.size}`);
        await rename(files.partial, files.archive);
        const finishedAt = new Date();
        const manifest: BackupManifest = {
          formatVersion: 1,
          id: backup.id,
          label: backup.label ?? null,
          trigger: backup.trigger,
          startedAt: backup.startedAt.toISOString(),
          finishedAt: finishedAt.toISOString(),
          file: path.basename(files.archive),
          format: 'pg_dump-custom',
          sizeBytes: bytes,
          sha256: hash.digest('hex'),
          server: { version: server.version, versionNum: server.versionNum },
          pgDumpVersion: tools.version,
          database: { name: server.database, systemIdentifier: server.systemIdentifier },
          schemaVersion,
          rowCounts,
          excludedTableData: [...PRESERVED_TABLES],
        };
        await writeManifest(dir, manifest);
        await client.query(
          `update backup set status = 'SUCCEEDED', finished_at = $2, size_bytes = $3, sha256 = $4, manifest = $5, error = null
           where id = $1`,
          [backup.id, finishedAt, bytes, manifest.sha256, JSON.stringify(manifest)],
        );
        Object.assign(backup, { status: BackupStatus.SUCCEEDED, finishedAt, sizeBytes: bytes, sha256: manifest.sha256, manifest });
      } finally {
        if (inTransaction) await client.query('rollback').catch(() => undefined);
      }
      await this.close(client, operationId, meta, backup, null);
      this.ctx.publishProgress({ id: backup.id, phase: 'DONE', bytesWritten: bytes, status: BackupStatus.SUCCEEDED, error: null });
      this.ctx.observeBackup(backup, 'succeeded');
      this.ctx.log.info({ backupId: backup.id, bytes, trigger: backup.trigger }, 'backup succeeded');
      if (backup.trigger !== BackupTrigger.PRE_RESTORE) {
        await this.afterSuccess(client).catch((err: unknown) => this.ctx.log.error({ err }, 'backup retention failed'));
      }
      return backup;
    } catch (error) {
      const reason = this.ctx.stopping ? 'interrupted: the instance shut down' : message(error);
      await unlink(files.partial).catch(() => undefined);
      await client
        .query(`update backup set status = 'FAILED', finished_at = now(), error = $2 where id = $1 and status = 'RUNNING'`, [backup.id, reason])
        .catch((err: unknown) => this.ctx.log.error({ err }, 'could not mark a backup FAILED'));
      Object.assign(backup, { status: BackupStatus.FAILED, finishedAt: new Date(), error: reason });
      await this.close(client, operationId, meta, backup, reason);
      this.ctx.publishProgress({ id: backup.id, phase: 'FAILED', bytesWritten: bytes, status: BackupStatus.FAILED, error: reason });
      this.ctx.observeBackup(backup, 'failed');
      this.ctx.publish(BACKUP_EVENTS.FAILED, { id: backup.id, kind: 'BACKUP', trigger: backup.trigger, error: reason });
      this.ctx.log.error({ backupId: backup.id, err: error }, 'backup failed');
      return backup;
    }
  }

  /** The outcome record: operation closed, then BACKUP_COMPLETE audited (only by whoever closed it). */
  private async close(client: Client, operationId: string, meta: RequestMeta, backup: Backup, error: string | null): Promise<void> {
    try {
      if (!(await this.ledger.finish(client, operationId, error ? 'FAILED' : 'SUCCEEDED', error))) return;
      await this.ctx.audit(meta, {
        action: 'BACKUP_COMPLETE',
        outcome: error ? 'FAILED' : 'SUCCESS',
        resourceType: 'Backup',
        resourceId: backup.id,
        reason: error,
        changes: { after: { status: backup.status, sizeBytes: backup.sizeBytes ?? null, sha256: backup.sha256 ?? null } },
      });
    } catch (err) {
      this.ctx.log.error({ err, backupId: backup.id }, 'could not record the outcome of a backup');
    }
  }
}
