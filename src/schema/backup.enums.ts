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

registerEnumType(BackupStatus, {
  name: 'BackupStatus',
  description: 'Where a backup stands',
  valuesConfig: {
    RUNNING: { description: 'pg_dump is writing it' },
    SUCCEEDED: { description: 'Complete, with its checksum and manifest' },
    FAILED: { description: 'Ended without a usable archive (see `error`)' },
  },
});
registerEnumType(BackupTrigger, {
  name: 'BackupTrigger',
  description: 'Why a backup was made',
  valuesConfig: {
    MANUAL: { description: 'Someone asked for it (createBackup or the CLI)' },
    SCHEDULED: { description: 'The backup schedule' },
    PRE_RESTORE: { description: 'The safety backup a restore takes before it touches the database' },
  },
});
registerEnumType(BackupVerificationKind, {
  name: 'BackupVerificationKind',
  description: 'Why a backup was verified',
  valuesConfig: {
    VERIFY: { description: 'Someone asked (verifyBackup or the CLI)' },
    DRILL: { description: 'A scheduled restore drill' },
  },
});
registerEnumType(RestoreDatabaseState, {
  name: 'RestoreDatabaseState',
  description: 'What the database holds after a restore attempt',
  valuesConfig: {
    RESTORED: { description: 'The backup is in place' },
    UNCHANGED: { description: 'The restore was rolled back as a whole: the database is exactly as it was before the attempt' },
    UNKNOWN: { description: 'The database could not be read after the failure; check it before writing' },
  },
});

/** The steps of a backup, as `backupProgress` pushes them (the services' `BackupPhase`). */
export const BackupPhaseEnum = {
  STARTING: 'STARTING',
  SNAPSHOT: 'SNAPSHOT',
  DUMPING: 'DUMPING',
  FINALIZING: 'FINALIZING',
  DONE: 'DONE',
  FAILED: 'FAILED',
} as const;

registerEnumType(BackupPhaseEnum, {
  name: 'BackupPhase',
  description: 'The step a backup is at, in the order they come',
  valuesConfig: {
    STARTING: { description: 'Accepted; the archive is being set up (a running backup read from its row shows this)' },
    SNAPSHOT: { description: 'Taking the consistent snapshot' },
    DUMPING: { description: 'pg_dump is writing the archive (bytesWritten grows)' },
    FINALIZING: { description: 'Checksum and manifest' },
    DONE: { description: 'SUCCEEDED' },
    FAILED: { description: 'FAILED (see error)' },
  },
});
