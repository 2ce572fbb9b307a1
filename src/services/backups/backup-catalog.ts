import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'pg';
import type { RequestMeta } from '../../context';
import { Backup } from '../../entities/backup.entity';
import { BackupVerification } from '../../entities/backup-verification.entity';
import { BadUserInputError, ConflictError, NotFoundError } from '../../errors';
import type { EntityManager } from '../../infra/db';
import { isUuid } from '../../infra/ids';
import { BackupStatus, type BackupTrigger } from '../../schema/backup.enums';
import { cursorArgument, decodeCursor, keysetSql, pageWindow, toPage, type Page, type PageArgs } from '../../schema/connection';
import type { ListDirection } from '../../schema/list-order';
import { boundsCondition, type TimeBounds } from '../../schema/time-range';
import type { BackupContext } from './backup-context';
import { BACKUP_LOCKS, openDedicatedConnection, tryLock } from './backup-connection';
import { backupFiles, readManifest } from './backup-manifest';

/** What `backups` may ask for: a page, a filter, and the direction of the start time. */
export interface BackupListArgs extends PageArgs {
  filter?: { status?: BackupStatus | null; trigger?: BackupTrigger | null; startedAt?: TimeBounds | null } | null;
  direction?: ListDirection;
}

/**
 * The list of backups: reads, the import of archives found on disk, deletion and retention. The
 * manifest files are the source of truth; the `backup` table mirrors them.
 */
export class BackupCatalog {
  constructor(private readonly ctx: BackupContext) {}

  /** When the newest successful backup finished; null if none has. */
  async lastSuccessfulBackupAt(): Promise<Date | null> {
    const em = this.ctx.deps.orm.em.fork();
    const [last] = await em.find(Backup, { status: BackupStatus.SUCCEEDED }, { orderBy: { finishedAt: 'desc' }, limit: 1 });
    return last?.finishedAt ?? null;
  }

  /** Backups newest first (`startedAt` descending, ties by id), as a Relay page. */
  async list(em: EntityManager, args: BackupListArgs): Promise<Page<Backup>> {
    const window = pageWindow(args);
    const { order, op } = keysetSql(args.direction ?? 'desc', window);
    const filter: Record<string, unknown> = {};
    if (args.filter?.status) filter.status = args.filter.status;
    if (args.filter?.trigger) filter.trigger = args.filter.trigger;
    const started = boundsCondition(args.filter?.startedAt);
    if (started) filter.startedAt = started;
    let where: Record<string, unknown> = filter;
    if (window.cursor) {
      const argument = cursorArgument(window);
      const [at, id] = decodeCursor(window.cursor, 2, argument);
      const time = new Date(String(at));
      if (Number.isNaN(time.getTime()) || !isUuid(id)) throw new BadUserInputError(`${argument} is not a cursor this list gave out`, argument);
      const cmp = op === '<' ? '$lt' : '$gt';
      where = { ...filter, $or: [{ startedAt: { [cmp]: time } }, { startedAt: time, id: { [cmp]: String(id) } }] };
    }
    const [rows, totalCount] = await Promise.all([
      window.size === 0 ? Promise.resolve([]) : em.find(Backup, where, { orderBy: { startedAt: order, id: order }, limit: window.size + 1 }),
      em.count(Backup, filter),
    ]);
    return toPage(rows, window, (b) => [b.startedAt.toISOString(), b.id], totalCount);
  }

  async get(em: EntityManager, id: string): Promise<Backup | null> {
    if (!isUuid(id)) return null;
    return em.findOne(Backup, { id });
  }

  /** Verification evidence of several backups, newest first per backup (one query). */
  async verificationsOf(em: EntityManager, backupIds: readonly string[]): Promise<Map<string, BackupVerification[]>> {
    const rows = backupIds.length
      ? await em.find(BackupVerification, { backupId: { $in: [...backupIds] } }, { orderBy: { at: 'desc', id: 'desc' } })
      : [];
    const byBackup = new Map<string, BackupVerification[]>(backupIds.map((id) => [id, []]));
    for (const row of rows) byBackup.get(row.backupId)?.push(row);
    return byBackup;
  }

  /**
   * Adds a `backup` row for every manifest in the backup directory the table lacks (archives
   * copied in, or a fresh database next to existing backups). Returns how many were added.
   */
  async rescan(): Promise<number> {
    const client = await openDedicatedConnection(this.ctx.databaseUrl);
    try {
      let names: string[];
      try {
        names = (await readdir(this.ctx.directory)).filter((n) => n.endsWith('.manifest.json'));
      } catch {
        return 0;
      }
      let added = 0;
      for (const name of names) {
        const manifest = await readManifest(path.join(this.ctx.directory, name));
        if (!manifest || !isUuid(manifest.id)) continue;
        const { rowCount } = await client.query(
          `insert into backup (id, label, status, trigger, started_at, finished_at, size_bytes, sha256, manifest)
           values ($1, $2, 'SUCCEEDED', $3, $4, $5, $6, $7, $8) on conflict (id) do nothing`,
          [manifest.id, manifest.label, manifest.trigger, manifest.startedAt, manifest.finishedAt, manifest.sizeBytes, manifest.sha256, JSON.stringify(manifest)],
        );
        added += rowCount ?? 0;
      }
      return added;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Deletes a backup's files and row. @throws CONFLICT while it (or any backup or restore) runs. */
  async delete(meta: RequestMeta, id: string): Promise<boolean> {
    const em = this.ctx.deps.orm.em.fork();
    const backup = await this.get(em, id);
    if (!backup) throw new NotFoundError('Backup', id);
    if (backup.status === BackupStatus.RUNNING) throw new ConflictError(`Backup ${id} is still running`);
    const lock = await tryLock(this.ctx.databaseUrl, BACKUP_LOCKS.backup);
    if (!lock) throw new ConflictError('A backup or restore is running; try again when it has finished');
    try {
      await em.transactional(async (tx) => {
        await tx.nativeDelete(Backup, { id });
        await this.ctx.deps.audit.record(tx, meta, {
          action: 'BACKUP_DELETE',
          resourceType: 'Backup',
          resourceId: id,
          changes: { before: { label: backup.label, trigger: backup.trigger, startedAt: backup.startedAt.toISOString(), sha256: backup.sha256 } },
        });
      });
      await this.removeFiles(id);
      return true;
    } finally {
      await lock.release();
    }
  }

  async removeFiles(id: string): Promise<void> {
    const files = backupFiles(this.ctx.directory, id);
    await Promise.all([files.archive, files.partial, files.manifest].map((f) => unlink(f).catch(() => undefined)));
  }

  /**
   * Expires backups: keeps the newest `VIGIL_BACKUP_KEEP_LAST` successful ones and every one
   * younger than `VIGIL_BACKUP_KEEP_DAYS` days (a backup survives if either rule keeps it; a rule
   * set to 0 is off; the newest successful backup always stays). Failed backups older than the
   * oldest kept one go too. Runs under the backup lock (`client` holds it). Returns deleted ids.
   */
  async applyRetention(client: Client): Promise<string[]> {
    const { keepLast, keepDays } = this.ctx.policy();
    if (!keepLast && !keepDays) return [];
    const { rows } = await client.query<{ id: string; status: BackupStatus; started_at: Date }>(
      `select id, status, started_at from backup where status <> 'RUNNING' order by started_at desc, id desc`,
    );
    const succeeded = rows.filter((r) => r.status === BackupStatus.SUCCEEDED);
    const cutoff = Date.now() - keepDays * 24 * 3600 * 1000;
    const kept = new Set<string>();
    succeeded.forEach((r, index) => {
      if (index === 0 || (keepLast && index < keepLast) || (keepDays && r.started_at.getTime() >= cutoff)) kept.add(r.id);
    });
    const oldestKept = succeeded.filter((r) => kept.has(r.id)).at(-1)?.started_at.getTime() ?? 0;
    const expired = rows.filter((r) =>
      r.status === BackupStatus.SUCCEEDED ? !kept.has(r.id) : r.started_at.getTime() < oldestKept,
    );
    if (!expired.length) return [];
    await client.query('delete from backup where id = any($1::uuid[])', [expired.map((r) => r.id)]);
    for (const r of expired) await this.removeFiles(r.id);
    this.ctx.log.info({ deleted: expired.map((r) => r.id) }, 'expired backups by retention');
    return expired.map((r) => r.id);
  }
}
