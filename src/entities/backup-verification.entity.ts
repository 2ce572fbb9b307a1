import { randomUUID } from 'node:crypto';
import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { BackupVerificationKind } from '../schema/backup.enums';
import { Node } from '../schema/node';

/** One check of a verification: its name, whether it passed, and what was seen. */
@ObjectType({ simpleResolvers: true, description: 'One check of a backup verification' })
export class BackupCheck {
  @Field({ description: 'checksum, size, manifest, trial-restore, row-counts …' })
  name!: string;

  @Field({ description: 'Whether the check passed' })
  ok!: boolean;

  @Field(() => String, { nullable: true, description: 'What the check saw, when it has something to say' })
  detail?: string | null;
}

/**
 * Evidence that a backup was verified (checksum, size, trial restore, row counts): kept for every
 * `verifyBackup` and every restore drill, because a backup nobody has verified is a hope.
 */
@ObjectType('BackupVerification', { simpleResolvers: true, implements: Node, description: 'The result of verifying a backup, kept as evidence' })
@Entity({ tableName: 'backup_verification' })
export class BackupVerification {
  [OptionalProps]?: 'at';

  @Field(() => ID, { description: "The verification's id (a UUID)" })
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid' })
  backupId!: string;

  @Field({ description: 'When the verification finished' })
  @Property({ type: 'timestamptz' })
  at: Date = new Date();

  @Field(() => BackupVerificationKind, { description: 'Asked for (VERIFY) or a scheduled restore drill (DRILL)' })
  @Property({ type: 'text' })
  kind!: BackupVerificationKind;

  @Field({ description: 'True when every check passed' })
  @Property({ type: 'boolean' })
  ok!: boolean;

  @Field(() => [BackupCheck], { description: 'Each check and what it saw' })
  @Property({ type: 'json' })
  checks!: BackupCheck[];

  /** The drill schedule slot this verification was made for; unique, so one slot makes one drill. */
  @Property({ type: 'timestamptz', nullable: true })
  scheduledFor?: Date | null;

  @Property({ type: 'uuid', nullable: true, fieldName: 'created_by' })
  createdById?: string | null;
}
