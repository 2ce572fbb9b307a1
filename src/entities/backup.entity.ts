import { randomUUID } from 'node:crypto';
import { BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { BackupStatus, BackupTrigger } from '../schema/backup.enums';
import type { BackupManifest } from '../services/backups/backup-manifest';
import { Node } from '../schema/node';
import { BytesScalar } from '../schema/scalars';

/**
 * A logical backup of the whole database: a pg_dump archive in the backup directory, with its
 * manifest beside it and here. The file manifest is the source of truth; this row mirrors it.
 */
@ObjectType({ simpleResolvers: true, implements: Node, description: 'A logical backup of the database (pg_dump custom format, compressed)' })
@Entity({ tableName: 'backup' })
export class Backup {
  [OptionalProps]?: 'startedAt' | 'status';

  @Field(() => ID, { description: "The backup's id (a UUID)" })
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Field(() => String, { nullable: true, description: 'What the requester called it' })
  @Property({ type: 'text', nullable: true })
  label?: string | null;

  @Field(() => BackupStatus, { description: 'RUNNING until pg_dump ends, then SUCCEEDED or FAILED' })
  @Property({ type: 'text' })
  status: BackupStatus = BackupStatus.RUNNING;

  @Field(() => BackupTrigger, { description: 'Why it was made' })
  @Property({ type: 'text' })
  trigger!: BackupTrigger;

  @Field({ description: 'When it started' })
  @Property({ type: 'timestamptz' })
  startedAt: Date = new Date();

  @Field(() => Date, { nullable: true, description: 'When it ended; null while RUNNING' })
  @Property({ type: 'timestamptz', nullable: true })
  finishedAt?: Date | null;

  @Field(() => BytesScalar, { nullable: true, description: 'Size of the archive file; null while RUNNING' })
  @Property({ type: new BigIntType('number'), nullable: true })
  sizeBytes?: number | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the archive file, hex' })
  @Property({ type: 'text', nullable: true })
  sha256?: string | null;

  @Field(() => String, { nullable: true, description: 'Why it FAILED; null otherwise' })
  @Property({ type: 'text', nullable: true })
  error?: string | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'id, label, trigger, times, size, SHA-256, server version, schema version, row counts per table',
  })
  @Property({ type: 'json', nullable: true })
  manifest?: BackupManifest | null;

  /** The schedule slot a scheduled backup was made for; unique, so one slot makes one backup. */
  @Property({ type: 'timestamptz', nullable: true })
  scheduledFor?: Date | null;

  @Property({ type: 'uuid', nullable: true, fieldName: 'created_by' })
  createdById?: string | null;
}
