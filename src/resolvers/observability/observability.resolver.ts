import { Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import type { CacheStats as CacheStatsReport } from '../../infra/cache';
import type { DatabaseStatsReport } from '../../services/observability/db-stats.service';
import type { SecurityAuditReport } from '../../services/security/security-audit';
import { CacheStats, DatabaseStats, SecurityAudit } from './observability.types';

@Resolver()
export class ObservabilityResolver {
  @Query(() => SecurityAudit, { nullable: true, description: 'ADMIN_ACCESS (null with FORBIDDEN otherwise): the security audit of the running configuration' })
  securityAudit(@Ctx() ctx: Context): SecurityAuditReport {
    return ctx.services.securityAudit.run();
  }

  @Query(() => CacheStats, { nullable: true, description: "ADMIN_ACCESS (null with FORBIDDEN otherwise): this instance's cache counters" })
  cacheStats(@Ctx() ctx: Context): CacheStatsReport {
    return ctx.services.cache.stats();
  }

  @Query(() => DatabaseStats, { nullable: true, description: 'ADMIN_ACCESS (null with FORBIDDEN otherwise): connections, sizes, slow statements and cache hit ratio' })
  dbStats(@Ctx() ctx: Context): Promise<DatabaseStatsReport> {
    return ctx.services.dbStats.stats();
  }
}
