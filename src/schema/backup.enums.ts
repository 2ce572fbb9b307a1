import { registerEnumType } from 'type-graphql';

/** Where a backup stands: RUNNING until pg_dump ends, then SUCCEEDED or FAILED. */
export enum BackupStatus {
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}

/** Why a backup was made. */
export enum BackupTrigger {
  MANUAL = 'MANUAL',
  SCHEDULED = 'SCHEDULED',
  /** The safety backup a restore takes before it touches the database. */
  PRE_RESTORE = 'PRE_RESTORE',
}

/** Why a backup was verified: on request, or by a scheduled restore drill. */
export enum BackupVerificationKind {
  VERIFY = 'VERIFY',
  DRILL = 'DRILL',
}

registerEnumType(BackupStatus, { name: 'BackupStatus' });
registerEnumType(BackupTrigger, { name: 'BackupTrigger' });
registerEnumType(BackupVerificationKind, { name: 'BackupVerificationKind' });
