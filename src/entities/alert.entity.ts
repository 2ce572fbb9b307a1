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

registerEnumType(AlertLevel, {
  name: 'AlertLevel',
  description: 'How serious an alert is, lowest first',
  valuesConfig: {
    INFO: { description: 'For the record' },
    WARNING: { description: 'May need attention' },
    ERROR: { description: 'Needs attention' },
    CRITICAL: { description: 'Needs attention now; escalates while unacknowledged' },
  },
});
registerEnumType(AlertStatus, {
  name: 'AlertStatus',
  description: 'Where an alert stands: ACTIVE → ACKNOWLEDGED → RESOLVED',
  valuesConfig: {
    ACTIVE: { description: 'Raised, nobody has acknowledged it' },
    ACKNOWLEDGED: { description: 'Someone is on it; escalation stops' },
    RESOLVED: { description: 'Dealt with' },
  },
});

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

  @Field(() => ID, { description: "The alert's id (a UUID)" })
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Field(() => BigIntScalar, { description: 'Cluster-wide order in which alerts were raised, without gaps' })
  @Property({ type: new BigIntType('number') })
  seq!: number;

  @Field(() => AlertLevel, { description: 'How serious it is' })
  @Property({ type: 'text' })
  level!: AlertLevel;

  @Field({ description: 'One line saying what happened' })
  @Property({ type: 'text' })
  title!: string;

  @Field(() => String, { nullable: true, description: 'More detail, when given' })
  @Property({ type: 'text', nullable: true })
  message?: string | null;

  @Field({ description: 'What raised it: health, security, audit, backup, or a user-given name' })
  @Property({ type: 'text' })
  source!: string;

  @Field({ description: 'Alerts with the same fingerprint within the cooldown are one alert' })
  @Property({ type: 'text' })
  fingerprint!: string;

  @Field(() => JSONScalar, { description: 'Flat JSON object of labels given when it was raised (host, component …)' })
  @Property({ type: 'json' })
  labels: AlertLabels = {};

  @Field(() => AlertStatus, { description: 'ACTIVE until acknowledged, then RESOLVED' })
  @Property({ type: 'text' })
  status: AlertStatus = AlertStatus.ACTIVE;

  @Field(() => Int, { description: 'How many times it was raised within the cooldown' })
  @Property({ type: 'integer' })
  count = 1;

  @Field({ description: 'When it was first raised' })
  @Property({ type: 'timestamptz' })
  firstSeenAt: Date = new Date();

  @Field({ description: 'When it was last raised (repeats within the cooldown count on it)' })
  @Property({ type: 'timestamptz' })
  lastSeenAt: Date = new Date();

  @Property({ type: 'uuid', nullable: true })
  acknowledgedById?: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was acknowledged; null before' })
  @Property({ type: 'timestamptz', nullable: true })
  acknowledgedAt?: Date | null;

  @Property({ type: 'uuid', nullable: true })
  resolvedById?: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was resolved; null before' })
  @Property({ type: 'timestamptz', nullable: true })
  resolvedAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'What the resolver wrote, when anything' })
  @Property({ type: 'text', nullable: true })
  resolution?: string | null;

  @Field(() => Int, { description: 'Raised by one each time it stays unacknowledged past the escalation delay' })
  @Property({ type: 'integer' })
  escalationLevel = 0;

  @Field(() => Date, { nullable: true, description: 'When it was last escalated; null if never' })
  @Property({ type: 'timestamptz', nullable: true })
  escalatedAt?: Date | null;

  @Field(() => ID, { nullable: true, description: 'The investigation opened from this alert' })
  @Property({ type: 'uuid', nullable: true })
  investigationId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  createdById?: string | null;
}
