import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Backup } from '../../entities/backup.entity';
import { BackupPhaseEnum, BackupStatus, BackupTrigger, RestoreDatabaseState } from '../../schema/backup.enums';
import { ListOrderInput } from '../../schema/list-order';
import { BytesScalar } from '../../schema/scalars';
import type { BackupPhase } from '../../services/backups/backup-events';
import { ConnectionType } from '../../schema/connection';
import { Node } from '../../schema/node';
import { DateTimeRange, rangeOf } from '../../schema/time-range';
import type { BackupListArgs } from '../../services/backups/backup-catalog';

export const BackupConnection = ConnectionType(Backup, 'Backup');

/** `backups(orderBy:)`. */
export const BackupOrder = ListOrderInput('Backup', { STARTED_AT: 'STARTED_AT' }, { STARTED_AT: 'When it started' }, 'backups');

@InputType({ description: 'Narrows `backups`; all given conditions must hold' })
export class BackupFilter {
  @Field(() => BackupStatus, { nullable: true, description: 'Only backups in this status' })
  status?: BackupStatus | null;

  @Field(() => BackupTrigger, { nullable: true, description: 'Only backups made for this reason' })
  trigger?: BackupTrigger | null;

  @Field(() => DateTimeRange, { nullable: true, description: 'Started within this range' })
  startedAt?: DateTimeRange | null;
}

/** What the catalog lists by. */
export function backupListFilter(filter: BackupFilter | null | undefined): BackupListArgs['filter'] {
  return filter ? { status: filter.status, trigger: filter.trigger, startedAt: rangeOf(filter, 'startedAt') } : null;
}

@ObjectType({ simpleResolvers: true, implements: Node, description: 'A step of a running backup, pushed by `backupProgress`' })
export class BackupProgress {
  @Field(() => ID, { description: "`BackupProgress:<backup id>`: its own id, so a client cache never mixes it with the Backup's record" })
  id!: string;

  @Field(() => ID, { description: 'The id of the backup this is the progress of' })
  backupId!: string;

  @Field(() => BackupPhaseEnum, { description: 'The step the backup is at' })
  phase!: BackupPhase;

  @Field(() => BytesScalar, { description: 'Bytes of the archive written so far' })
  bytesWritten!: number;

  @Field(() => BackupStatus, { description: "The backup's status" })
  status!: BackupStatus;

  @Field(() => String, { nullable: true, description: 'Why it FAILED; null otherwise' })
  error!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'What a restore did' })
export class RestoreResult {
  @Field({ description: 'True when the database now holds the backup' })
  ok!: boolean;

  @Field(() => Backup, { description: 'The backup that was restored' })
  backup!: Backup;

  @Field(() => Backup, { nullable: true, description: 'The PRE_RESTORE backup taken first (null when the restore stopped before it)' })
  safetyBackup!: Backup | null;

  @Field({
    description:
      'True when the restore failed and was rolled back as a whole, leaving the database as it was before the attempt (the safety backup is never put back over it)',
  })
  rolledBack!: boolean;

  @Field(() => RestoreDatabaseState, { description: 'What the database holds now: the backup, its state before the attempt, or unknown' })
  databaseState!: RestoreDatabaseState;

  @Field(() => String, { nullable: true, description: 'Why it failed; null when ok' })
  error!: string | null;

  @Field({ description: 'When the restore ended' })
  finishedAt!: Date;
}

/** What `deleteBackupV2` answers: the id a client evicts from its normalised cache. */
@ObjectType({ simpleResolvers: true, description: 'The answer of deleteBackupV2' })
export class DeleteBackupPayload {
  @Field(() => ID, { description: 'The id of the backup that was deleted, to evict from a client cache (Relay: `deletedId @deleteRecord`)' })
  deletedId!: string;
}
