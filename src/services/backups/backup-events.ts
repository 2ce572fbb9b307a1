import type { BackupStatus } from '../../schema/backup.enums';

/** Pub/sub topics of the backups area; payloads are plain JSON. */
export const BACKUP_EVENTS = {
  /** `publish(PROGRESS, backupId, BackupProgress)` */
  PROGRESS: 'BACKUP_PROGRESS',
  /** `{ id, by }` after a successful restore; `by` is the actor's email or `system`. */
  RESTORED: 'BACKUP_RESTORED',
  /** `{ id, kind: 'BACKUP' | 'DRILL' | 'RESTORE', trigger, error }` when a backup, drill or restore fails. */
  FAILED: 'BACKUP_FAILED',
  /** `{ lastSuccessfulAt, maxAgeHours }` when no backup succeeded within `VIGIL_BACKUP_MAX_AGE_HOURS`. */
  STALE: 'BACKUP_STALE',
} as const;

/** The stages a backup goes through, as `backupProgress` reports them. */
export type BackupPhase = 'STARTING' | 'SNAPSHOT' | 'DUMPING' | 'FINALIZING' | 'DONE' | 'FAILED';

/** One `backupProgress` event. */
export interface BackupProgressEvent {
  id: string;
  phase: BackupPhase;
  bytesWritten: number;
  status: BackupStatus;
  error: string | null;
}

/**
 * Tables a restore leaves as they are, and whose rows are not in an archive: the backups area's own
 * records (backups, verifications, operations), the alert sequence ledger, the runtime settings
 * with their history, and the live state of the running cluster (maintenance leases, each
 * instance's settings report). What happened around a restore stays known after it, the restore's
 * own maintenance lease holds through its commit, and neither alert numbers nor settings versions
 * go back: a number handed out twice would let subscribers skip alerts and a stale
 * `updateSystemSettings(expectedVersion)` pass.
 */
export const PRESERVED_TABLES = [
  'public.backup',
  'public.backup_verification',
  'public.backup_operation',
  'public.alert_sequence_ledger',
  'public.system_settings_state',
  'public.system_settings_change',
  'public.maintenance_hold',
  'public.settings_instance',
] as const;

/** The message of any thrown value. */
export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
