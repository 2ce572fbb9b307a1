import { Ctx, FieldResolver, ID, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../../context';
import type { ComponentReport, HealthReport } from '../../services/health/health-check';
import { Health, HEALTH_ID, HealthComponent, healthComponentId } from './health.types';
import { subscriberQueue } from '../subscriber-queue';

@Resolver(() => Health)
export class HealthResolver {
  @Query(() => Health, { description: 'Anyone: the overall status; components and details need ADMIN_ACCESS' })
  health(@Ctx() ctx: Context): Promise<HealthReport> {
    return ctx.services.health.check();
  }

  @Subscription(() => Health, {
    description: 'Anyone: the health report whenever the overall or a component status changes (components as for `health`)',
    subscribe: ({ context }) => (context as Context).services.health.changes(subscriberQueue(context as Context)),
  })
  healthChanged(@Root() report: HealthReport): HealthReport {
    return report;
  }

  @FieldResolver(() => ID, { description: 'Always `Health`: a report is the current state of the one Health object, so pushes update cached queries' })
  id(): string {
    return HEALTH_ID;
  }
}

@Resolver(() => HealthComponent)
export class HealthComponentResolver {
  @FieldResolver(() => ID, { description: '`HealthComponent:<name>`' })
  id(@Root() component: ComponentReport): string {
    return healthComponentId(component.name);
  }
}
