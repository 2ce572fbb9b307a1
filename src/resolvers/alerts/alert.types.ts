import { Field, InputType } from 'type-graphql';
import { Alert, AlertLevel, AlertStatus } from '../../entities/alert.entity';
import { ConnectionType } from '../../schema/connection';
import { JSONScalar } from '../../schema/scalars';
import { ListOrderInput } from '../../schema/list-order';
import { DateTimeRange, rangeOf } from '../../schema/time-range';
import type { AlertListFilter } from '../../services/alerts/alert.service';

export const AlertConnection = ConnectionType(Alert, 'Alert');

@InputType({ description: 'A new alert; source defaults to "api", fingerprint to a hash of source and title' })
export class RaiseAlertInput {
  @Field(() => AlertLevel, { description: 'How serious it is' })
  level!: AlertLevel;

  @Field({ description: 'One line, 1–200 characters' })
  title!: string;

  @Field(() => String, { nullable: true, description: 'More detail, at most 10,000 characters' })
  message?: string | null;

  @Field(() => String, { nullable: true, description: 'What raised it; "api" when omitted' })
  source?: string | null;

  @Field(() => String, { nullable: true, description: 'Repeats with the same fingerprint within the cooldown count on one alert' })
  fingerprint?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'A flat JSON object' })
  labels?: Record<string, unknown> | null;
}

/** `alerts(orderBy:)`. */
export const AlertOrder = ListOrderInput('Alert', { FIRST_SEEN_AT: 'FIRST_SEEN_AT' }, { FIRST_SEEN_AT: 'When it was first raised' }, 'alerts');

@InputType({ description: 'Narrows `alerts`; all given conditions must hold' })
export class AlertFilter {
  @Field(() => AlertLevel, { nullable: true, description: 'Only alerts of this level' })
  level?: AlertLevel | null;

  @Field(() => AlertStatus, { nullable: true, description: 'Only alerts in this status' })
  status?: AlertStatus | null;

  @Field(() => String, { nullable: true, description: 'Only alerts of this source' })
  source?: string | null;

  @Field(() => DateTimeRange, { nullable: true, description: 'First seen within this range' })
  firstSeenAt?: DateTimeRange | null;

  @Field(() => Date, { nullable: true, description: 'First seen at or after', deprecationReason: 'Use firstSeenAt: { from }' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'First seen before', deprecationReason: 'Use firstSeenAt: { to }' })
  to?: Date | null;
}

/** What the service lists by: the filter with its range resolved from either spelling. */
export function alertListFilter(filter: AlertFilter | null | undefined): AlertListFilter | null {
  if (!filter) return null;
  const { from, to } = rangeOf(filter, 'firstSeenAt', { from: 'from', to: 'to' });
  return { level: filter.level, status: filter.status, source: filter.source, from, to };
}

@InputType({ description: 'Which alerts a silence mutes: every field given must match; labels must all be present' })
export class AlertMatcherInput {
  @Field(() => String, { nullable: true, description: 'Alerts of this source' })
  source?: string | null;

  @Field(() => AlertLevel, { nullable: true, description: 'Alerts of this level' })
  level?: AlertLevel | null;

  @Field(() => String, { nullable: true, description: 'Alerts with this fingerprint' })
  fingerprint?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'Alerts carrying all these labels (a flat JSON object)' })
  labels?: Record<string, unknown> | null;
}
