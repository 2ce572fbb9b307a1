import { Ctx, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../../context';
import type { HealthReport } from '../../services/health/health-check';
import { subscriberQueue } from '../subscriber-queue';
import { Health } from './health.types';

@Resolver(() => Health)
export class HealthResolver {
  @Query(() => Health, { description: 'Anyone: the overall status; components and details need ADMIN_ACCESS' })
  health(@Ctx() ctx: Context): Promise<HealthReport> {
    return ctx.services.health.check();
  }

  @Subscription(() => Health, {
    description: 'Pushes the health report whenever the overall or a component status changes',
    subscribe: ({ context }) => (context as Context).services.health.changes(subscriberQueue(context as Context)),
  })
  healthChanged(@Root() report: HealthReport): HealthReport {
    return report;
  }
}
