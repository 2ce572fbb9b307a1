import DataLoader from 'dataloader';
import { BackupVerification } from '../../entities/backup-verification.entity';
import type { EntityManager } from '../../infra/db';

/** The backups area's per-request loaders. */
export interface BackupLoaders {
  /** Verification evidence of a backup, newest first; one statement per tick. */
  backupVerifications: DataLoader<string, BackupVerification[]>;
}

export function createBackupLoaders(em: () => EntityManager): BackupLoaders {
  return {
    backupVerifications: new DataLoader(async (ids) => {
      const rows = await em().find(BackupVerification, { backupId: { $in: [...ids] } }, { orderBy: { at: 'desc', id: 'desc' } });
      const byBackup = new Map<string, BackupVerification[]>(ids.map((id) => [id, []]));
      for (const row of rows) byBackup.get(row.backupId)?.push(row);
      return ids.map((id) => byBackup.get(id) ?? []);
    }),
  };
}
