import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { requestMeta, type Context } from '../../context';
import { AlertSilence } from '../../entities/alert-silence.entity';
import { Alert, AlertLevel } from '../../entities/alert.entity';
import { Investigation } from '../../entities/investigation.entity';
import { User } from '../../entities/user.entity';
import { BadUserInputError, NotFoundError } from '../../errors';
import { ConnectionArgs, type Page } from '../../schema/connection';
import { subscriberQueue } from '../subscriber-queue';
import { listDirection } from '../../schema/list-order';
import { AlertConnection, AlertFilter, alertListFilter, AlertOrder, AlertMatcherInput, RaiseAlertInput } from './alert.types';

interface AlertRaisedArgs {
  minLevel?: AlertLevel | null;
  after?: string | null;
}

@Resolver(() => Alert)
export class AlertResolver {
  @Query(() => AlertConnection, { nullable: true, description: 'Signed in (null with UNAUTHENTICATED otherwise): alerts, newest first' })
  alerts(
    @Ctx() ctx: Context,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('filter', () => AlertFilter, { nullable: true, description: 'Narrows the list; all given conditions must hold' }) filter?: AlertFilter | null,
    @Arg('orderBy', () => AlertOrder, { nullable: true, description: 'The order; newest first when omitted' }) orderBy?: InstanceType<typeof AlertOrder> | null,
  ): Promise<Page<Alert>> {
    return ctx.services.alerts.list(ctx.em, { ...page, filter: alertListFilter(filter), direction: listDirection(orderBy) });
  }

  @Query(() => Alert, { nullable: true, description: 'Signed in (null with UNAUTHENTICATED otherwise): one alert; null for an unknown id' })
  alert(@Ctx() ctx: Context, @Arg('id', () => ID, { description: "The alert's id" }) id: string): Promise<Alert | null> {
    return ctx.services.alerts.get(ctx.em, id);
  }

  @Mutation(() => Alert, { description: 'ADMIN_ACCESS: raises an alert, or counts a repeat within the cooldown' })
  async raiseAlert(@Ctx() ctx: Context, @Arg('input', () => RaiseAlertInput, { description: 'What to raise' }) input: RaiseAlertInput): Promise<Alert> {
    const { alert } = await ctx.services.alerts.raise(requestMeta(ctx), input);
    return alert;
  }

  @Mutation(() => Alert, { description: 'MODIFY_INVESTIGATIONS: ACTIVE → ACKNOWLEDGED; stops escalation' })
  acknowledgeAlert(@Ctx() ctx: Context, @Arg('id', () => ID, { description: "The alert's id" }) id: string): Promise<Alert> {
    return ctx.services.alerts.acknowledge(requestMeta(ctx), id);
  }

  @Mutation(() => Alert, { description: 'MODIFY_INVESTIGATIONS: → RESOLVED' })
  resolveAlert(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { description: "The alert's id" }) id: string,
    @Arg('resolution', () => String, { nullable: true, description: 'What was done about it' }) resolution?: string | null,
  ): Promise<Alert> {
    return ctx.services.alerts.resolve(requestMeta(ctx), id, resolution);
  }

  @Mutation(() => AlertSilence, {
    description: 'MODIFY_INVESTIGATIONS: mutes delivery (not recording or subscriptions) of matching alerts until `until`, or until a matching alert resolves',
  })
  silenceAlerts(
    @Ctx() ctx: Context,
    @Arg('matcher', () => AlertMatcherInput, { description: 'Which alerts to mute' }) matcher: AlertMatcherInput,
    @Arg('until', () => Date, { nullable: true, description: 'When the silence ends; omitted: when a matching alert resolves' }) until?: Date | null,
    @Arg('reason', () => String, { nullable: true, description: 'Why; kept with the silence' }) reason?: string | null,
  ): Promise<AlertSilence> {
    return ctx.services.alerts.silence(requestMeta(ctx), { ...matcher, until, reason });
  }

  @Mutation(() => Investigation, { description: 'CREATE_INVESTIGATIONS and MODIFY_INVESTIGATIONS: opens an investigation linked to the alert' })
  async openInvestigationFromAlert(@Ctx() ctx: Context, @Arg('id', () => ID, { description: "The alert's id" }) id: string): Promise<Investigation> {
    const { investigationId } = await ctx.services.alerts.openInvestigation(requestMeta(ctx), id);
    const investigation = await ctx.services.investigations.get(ctx.em, investigationId);
    if (!investigation) throw new NotFoundError('Investigation', investigationId);
    return investigation;
  }

  @Subscription(() => Alert, {
    description: 'Signed in: new alerts at or above minLevel, in order; with `after` (the last alert id seen) first every alert raised since',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const { minLevel, after } = args as AlertRaisedArgs;
      let afterSeq: number | undefined;
      if (after) {
        const seq = await ctx.services.alerts.seqOf(ctx.em, after);
        if (seq === null) throw new BadUserInputError('after is not the id of an alert', 'after');
        afterSeq = seq;
      }
      return ctx.services.alerts.feed.raised({
        minLevel: minLevel ?? AlertLevel.INFO,
        afterSeq,
        limit: subscriberQueue(ctx),
      });
    },
  })
  alertRaised(
    @Root() alert: Alert,
    @Arg('minLevel', () => AlertLevel, { nullable: true, defaultValue: AlertLevel.INFO, description: 'Only alerts at or above this level' }) _minLevel: AlertLevel | null,
    @Arg('after', () => ID, { nullable: true, description: 'The id of the last alert seen: every alert raised since comes first' }) _after?: string | null,
  ): Alert {
    return alert;
  }

  @Subscription(() => Alert, {
    description: 'Signed in: alerts as they change (repeated, acknowledged, resolved, escalated)',
    subscribe: ({ context }) => {
      const ctx = context as Context;
      return ctx.services.alerts.feed.updated(subscriberQueue(ctx));
    },
  })
  alertUpdated(@Root() alert: Alert): Alert {
    return alert;
  }

  @FieldResolver(() => Investigation, { nullable: true, description: 'The investigation opened from this alert (READ_INVESTIGATIONS)' })
  async investigation(@Root() alert: Alert, @Ctx() ctx: Context): Promise<Investigation | null> {
    // Deleting an investigation leaves the alert's link behind: a gone one reads as none.
    return alert.investigationId ? ctx.loaders.investigationById.load(alert.investigationId) : null;
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who acknowledged it; null before, or once the account is gone' })
  acknowledgedBy(@Root() alert: Alert, @Ctx() ctx: Context): Promise<User | null> | null {
    return alert.acknowledgedById ? ctx.loaders.userById.load(alert.acknowledgedById) : null;
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who resolved it; null before, or once the account is gone' })
  resolvedBy(@Root() alert: Alert, @Ctx() ctx: Context): Promise<User | null> | null {
    return alert.resolvedById ? ctx.loaders.userById.load(alert.resolvedById) : null;
  }
}
