import { Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requestMeta, type Context } from '../../context';
import { AuditLog } from '../../entities/audit-log.entity';
import { User } from '../../entities/user.entity';
import { ConnectionArgs, type Page } from '../../schema/connection';
import type { AuditChainVerification as Verification, AuditExportResult } from '../../services/audit/audit.service';
import { listDirection } from '../../schema/list-order';
import { AuditChainVerification, AuditExport, AuditLogConnection, AuditLogFilter, AuditLogOrder, auditLogQuery } from './audit.types';

@Resolver()
export class AuditResolver {
  @Query(() => AuditLogConnection, { nullable: true, description: 'AUDIT_ACCESS (null with FORBIDDEN otherwise): audit entries, newest first' })
  auditLogs(
    @Ctx() ctx: Context,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('filter', () => AuditLogFilter, { nullable: true, description: 'Narrows the list; all given conditions must hold' }) filter?: AuditLogFilter,
    @Arg('orderBy', () => AuditLogOrder, { nullable: true, description: 'The order; newest first when omitted' }) orderBy?: InstanceType<typeof AuditLogOrder> | null,
  ): Promise<Page<AuditLog>> {
    return ctx.services.audit.list(ctx.em, { ...page, filter: auditLogQuery(filter), direction: listDirection(orderBy) });
  }

  @Query(() => AuditChainVerification, {
    nullable: true,
    description: 'AUDIT_ACCESS (null with FORBIDDEN otherwise): walks the whole chain from the retention anchor, recomputing every hash',
  })
  verifyAuditChain(@Ctx() ctx: Context): Promise<Verification> {
    return ctx.services.audit.verifyChain();
  }

  @Mutation(() => AuditExport, {
    description: 'AUDIT_ACCESS + EXPORT_DATA; at most 100,000 entries (BAD_USER_INPUT beyond); the export is audited',
  })
  exportAuditLogs(
    @Ctx() ctx: Context,
    @Arg('filter', () => AuditLogFilter, { nullable: true, description: 'Which entries; all when omitted' }) filter?: AuditLogFilter,
  ): Promise<AuditExportResult> {
    return ctx.services.audit.exportLogs(requestMeta(ctx), auditLogQuery(filter));
  }
}

@Resolver(() => AuditLog)
export class AuditLogResolver {
  @FieldResolver(() => User, { nullable: true, description: 'The acting user; null when the system acted or the account is gone' })
  actor(@Root() entry: AuditLog, @Ctx() ctx: Context): Promise<User | null> | null {
    return entry.actorId ? ctx.loaders.userById.load(entry.actorId) : null;
  }
}
