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

/** What the database holds after a restore attempt. */
export enum RestoreDatabaseState {
  /** The backup is in place. */
  RESTORED = 'RESTORED',
  /** The restore was rolled back as a whole: the database is exactly as it was before the attempt. */
  UNCHANGED = 'UNCHANGED',
  /** The database could not be read after the failure; check it before writing. */
  UNKNOWN = 'UNKNOWN',
}

registerEnumType(BackupStatus, { name: 'BackupStatus' });
registerEnumType(BackupTrigger, { name: 'BackupTrigger' });
registerEnumType(BackupVerificationKind, { name: 'BackupVerificationKind' });
registerEnumType(RestoreDatabaseState, {
  name: 'RestoreDatabaseState',
  description: 'What the database holds after a restore attempt',
  valuesConfig: {
    RESTORED: { description: 'The backup is in place' },
    UNCHANGED: { description: 'The restore was rolled back as a whole: the database is exactly as it was before the attempt' },
    UNKNOWN: { description: 'The database could not be read after the failure; check it before writing' },
  },
});
