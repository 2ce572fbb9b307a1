import { Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import type { CacheStats as CacheStatsReport } from '../../infra/cache';
import type { DatabaseStatsReport } from '../../services/observability/db-stats.service';
import type { SecurityAuditReport } from '../../services/security/security-audit';
import { CacheStats, DatabaseStats, SecurityAudit } from './observability.types';

@Resolver()
export class ObservabilityResolver {
  @Query(() => SecurityAudit, { description: 'ADMIN_ACCESS: the security audit of the running configuration' })
  securityAudit(@Ctx() ctx: Context): SecurityAuditReport {
    return ctx.services.securityAudit.run();
  }

  @Query(() => CacheStats, { description: "ADMIN_ACCESS: this instance's cache counters" })
  cacheStats(@Ctx() ctx: Context): CacheStatsReport {
    return ctx.services.cache.stats();
  }

  @Query(() => DatabaseStats, { description: 'ADMIN_ACCESS: connections, sizes, slow statements and cache hit ratio' })
  dbStats(@Ctx() ctx: Context): Promise<DatabaseStatsReport> {
    return ctx.services.dbStats.stats();
  }
}
