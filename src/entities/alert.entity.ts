import { BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, JSONScalar } from '../schema/scalars';
import { Node } from '../schema/node';

/** How serious an alert is, lowest first. */
export enum AlertLevel {
  INFO = 'INFO',
  WARNING = 'WARNING',
  ERROR = 'ERROR',
  CRITICAL = 'CRITICAL',
}

/** An alert's way from raised to dealt with. */
export enum AlertStatus {
  ACTIVE = 'ACTIVE',
  ACKNOWLEDGED = 'ACKNOWLEDGED',
  RESOLVED = 'RESOLVED',
}

registerEnumType(AlertLevel, { name: 'AlertLevel', description: 'How serious an alert is, lowest first' });
registerEnumType(AlertStatus, { name: 'AlertStatus' });

/** The levels in ascending order of severity. */
export const ALERT_LEVELS: readonly AlertLevel[] = [AlertLevel.INFO, AlertLevel.WARNING, AlertLevel.ERROR, AlertLevel.CRITICAL];

/** The levels at or above `min`. */
export function levelsAtLeast(min: AlertLevel): AlertLevel[] {
  return ALERT_LEVELS.slice(ALERT_LEVELS.indexOf(min));
}

/** Whether `level` is at least as severe as `min`. */
export function levelAtLeast(level: AlertLevel, min: AlertLevel): boolean {
  return ALERT_LEVELS.indexOf(level) >= ALERT_LEVELS.indexOf(min);
}

/** Labels attached to an alert: flat string keys to JSON values. */
export type AlertLabels = Record<string, unknown>;

/**
 * Something that needs an operator's attention. Repeats of the same fingerprint within the
 * cooldown raise `count` instead of creating a new alert; `seq` orders alerts cluster-wide
 * without gaps, which is what subscriptions resume from.
 */
@Entity({ tableName: 'alert' })
@ObjectType({ simpleResolvers: true, implements: Node, description: 'Something that needs an operator’s attention' })
export class Alert {
  [OptionalProps]?: 'labels' | 'status' | 'count' | 'firstSeenAt' | 'lastSeenAt' | 'escalationLevel';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Field(() => BigIntScalar, { description: 'Cluster-wide order in which alerts were raised, without gaps' })
  @Property({ type: new BigIntType('number') })
  seq!: number;

  @Field(() => AlertLevel)
  @Property({ type: 'text' })
  level!: AlertLevel;

  @Field()
  @Property({ type: 'text' })
  title!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  message?: string | null;

  @Field({ description: 'What raised it: health, security, audit, backup, or a user-given name' })
  @Property({ type: 'text' })
  source!: string;

  @Field({ description: 'Alerts with the same fingerprint within the cooldown are one alert' })
  @Property({ type: 'text' })
  fingerprint!: string;

  @Field(() => JSONScalar)
  @Property({ type: 'json' })
  labels: AlertLabels = {};

  @Field(() => AlertStatus)
  @Property({ type: 'text' })
  status: AlertStatus = AlertStatus.ACTIVE;

  @Field(() => Int, { description: 'How many times it was raised within the cooldown' })
  @Property({ type: 'integer' })
  count = 1;

  @Field()
  @Property({ type: 'timestamptz' })
  firstSeenAt: Date = new Date();

  @Field()
  @Property({ type: 'timestamptz' })
  lastSeenAt: Date = new Date();

  @Property({ type: 'uuid', nullable: true })
  acknowledgedById?: string | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  acknowledgedAt?: Date | null;

  @Property({ type: 'uuid', nullable: true })
  resolvedById?: string | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  resolvedAt?: Date | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  resolution?: string | null;

  @Field(() => Int, { description: 'Raised by one each time it stays unacknowledged past the escalation delay' })
  @Property({ type: 'integer' })
  escalationLevel = 0;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  escalatedAt?: Date | null;

  @Field(() => ID, { nullable: true, description: 'The investigation opened from this alert' })
  @Property({ type: 'uuid', nullable: true })
  investigationId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  createdById?: string | null;
}
