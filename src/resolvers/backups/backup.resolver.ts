import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { requestMeta, type Context } from '../../context';
import { Backup } from '../../entities/backup.entity';
import { BackupVerification } from '../../entities/backup-verification.entity';
import { User } from '../../entities/user.entity';
import { ConnectionArgs, type Page } from '../../schema/connection';
import { rowId, typedId } from '../../schema/node';
import type { BackupProgressEvent, RestoreOutcome } from '../../services/backups/backup.service';
import { subscriberQueue } from '../subscriber-queue';
import { listDirection } from '../../schema/list-order';
import { BackupConnection, BackupFilter, backupListFilter, BackupOrder, BackupProgress, DeleteBackupPayload, RestoreResult } from './backup.types';

@Resolver(() => Backup)
export class BackupResolver {
  @Query(() => BackupConnection, { nullable: true, description: 'ADMIN_ACCESS (null with FORBIDDEN otherwise): backups, newest first' })
  backups(
    @Ctx() ctx: Context,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('filter', () => BackupFilter, { nullable: true, description: 'Narrows the list; all given conditions must hold' }) filter?: BackupFilter | null,
    @Arg('orderBy', () => BackupOrder, { nullable: true, description: 'The order; newest first when omitted' }) orderBy?: InstanceType<typeof BackupOrder> | null,
  ): Promise<Page<Backup>> {
    return ctx.services.backups.list(ctx.em, { ...page, filter: backupListFilter(filter), direction: listDirection(orderBy) });
  }

  @Query(() => Backup, { nullable: true, description: 'ADMIN_ACCESS (null with FORBIDDEN otherwise): one backup with its manifest and verifications; null for an unknown id' })
  backup(@Ctx() ctx: Context, @Arg('id', () => ID, { description: "The backup's id" }) id: string): Promise<Backup | null> {
    return ctx.services.backups.get(ctx.em, id);
  }

  @Mutation(() => Backup, { description: 'ADMIN_ACCESS: starts a backup; returns at once with status RUNNING' })
  createBackup(@Ctx() ctx: Context, @Arg('label', () => String, { nullable: true, description: 'What to call it' }) label?: string | null): Promise<Backup> {
    return ctx.services.backups.create(requestMeta(ctx), { label });
  }

  @Mutation(() => BackupVerification, { description: 'ADMIN_ACCESS: checksum, size and a trial restore; kept as evidence' })
  verifyBackup(@Ctx() ctx: Context, @Arg('id', () => ID, { description: "The backup's id" }) id: string): Promise<BackupVerification> {
    return ctx.services.backups.verify(requestMeta(ctx), id);
  }

  @Mutation(() => RestoreResult, {
    description: 'SYSTEM_CONFIG: restores a backup after a PRE_RESTORE safety backup; `confirm` must repeat the id',
  })
  restoreBackup(@Ctx() ctx: Context, @Arg('id', () => ID, { description: "The backup's id" }) id: string, @Arg('confirm', { description: "The backup's id again, as a confirmation" }) confirm: string): Promise<RestoreOutcome> {
    return ctx.services.backups.restore(requestMeta(ctx), id, confirm);
  }

  @Mutation(() => Boolean, {
    description: 'SYSTEM_CONFIG: deletes a backup and its files. Answers true',
    deprecationReason: 'Use deleteBackupV2, which answers with the deleted id for client caches',
  })
  deleteBackup(@Ctx() ctx: Context, @Arg('id', () => ID, { description: "The backup's id" }) id: string): Promise<boolean> {
    return ctx.services.backups.delete(requestMeta(ctx), rowId(id));
  }

  @Mutation(() => DeleteBackupPayload, { description: 'SYSTEM_CONFIG: deletes a backup and its files. Answers with its id, for client caches to evict' })
  async deleteBackupV2(@Ctx() ctx: Context, @Arg('id', () => ID, { description: "The backup's id" }) id: string): Promise<DeleteBackupPayload> {
    const deletedId = rowId(id);
    await ctx.services.backups.delete(requestMeta(ctx), deletedId);
    return { deletedId };
  }

  @Subscription(() => BackupProgress, {
    description: 'ADMIN_ACCESS: the state of a backup now, then each step until it SUCCEEDED or FAILED',
    subscribe: ({ args, context }) => (context as Context).services.backups.progress(String(args.id), subscriberQueue(context as Context)),
  })
  backupProgress(@Root() event: BackupProgressEvent, @Arg('id', () => ID, { description: "The backup's id" }) _id: string): BackupProgressEvent {
    return event;
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who asked for it; null for scheduled backups' })
  createdBy(@Root() backup: Backup, @Ctx() ctx: Context): Promise<User | null> | null {
    return backup.createdById ? ctx.loaders.userById.load(backup.createdById) : null;
  }

  @FieldResolver(() => [BackupVerification], { description: 'Verifications and restore drills of this backup, newest first' })
  verifications(@Root() backup: Backup, @Ctx() ctx: Context): Promise<BackupVerification[]> {
    return ctx.loaders.backupVerifications.load(backup.id);
  }
}

/** The progress of a backup has an id of its own, and leads to the backup. */
@Resolver(() => BackupProgress)
export class BackupProgressResolver {
  @FieldResolver(() => ID, { description: "`BackupProgress:<backup id>`: its own id, so a client cache never mixes it with the Backup's record" })
  id(@Root() event: BackupProgressEvent): string {
    return typedId('BackupProgress', event.id);
  }

  @FieldResolver(() => ID, { description: 'The id of the backup this is the progress of' })
  backupId(@Root() event: BackupProgressEvent): string {
    return event.id;
  }

  @FieldResolver(() => Backup, { nullable: true, description: 'The backup itself as it is now; null once deleted' })
  backup(@Root() event: BackupProgressEvent, @Ctx() ctx: Context): Promise<Backup | null> {
    return ctx.services.backups.get(ctx.em, event.id);
  }
}
