import { Field, InputType } from 'type-graphql';
import { Alert, AlertLevel, AlertStatus } from '../../entities/alert.entity';
import { ConnectionType } from '../../schema/connection';
import { JSONScalar } from '../../schema/scalars';

export const AlertConnection = ConnectionType(Alert, 'Alert');

@InputType({ description: 'A new alert; source defaults to "api", fingerprint to a hash of source and title' })
export class RaiseAlertInput {
  @Field(() => AlertLevel)
  level!: AlertLevel;

  @Field()
  title!: string;

  @Field(() => String, { nullable: true })
  message?: string | null;

  @Field(() => String, { nullable: true })
  source?: string | null;

  @Field(() => String, { nullable: true, description: 'Repeats with the same fingerprint within the cooldown count on one alert' })
  fingerprint?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'A flat JSON object' })
  labels?: Record<string, unknown> | null;
}

@InputType()
export class AlertFilter {
  @Field(() => AlertLevel, { nullable: true })
  level?: AlertLevel | null;

  @Field(() => AlertStatus, { nullable: true })
  status?: AlertStatus | null;

  @Field(() => String, { nullable: true })
  source?: string | null;

  @Field(() => Date, { nullable: true, description: 'First seen at or after' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'First seen before' })
  to?: Date | null;
}

@InputType({ description: 'Which alerts a silence mutes: every field given must match; labels must all be present' })
export class AlertMatcherInput {
  @Field(() => String, { nullable: true })
  source?: string | null;

  @Field(() => AlertLevel, { nullable: true })
  level?: AlertLevel | null;

  @Field(() => String, { nullable: true })
  fingerprint?: string | null;

  @Field(() => JSONScalar, { nullable: true })
  labels?: Record<string, unknown> | null;
}
