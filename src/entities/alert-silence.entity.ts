import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { JSONScalar } from '../schema/scalars';
import { AlertLevel, type AlertLabels } from './alert.entity';
import { Node } from '../schema/node';

/**
 * Mutes the delivery (not the recording or the publishing) of matching alerts until a time, or,
 * without one, until a matching alert is resolved. Every matcher field that is set must match;
 * `labels` matches alerts whose labels contain all of them.
 */
@Entity({ tableName: 'alert_silence' })
@ObjectType({ simpleResolvers: true, implements: Node, description: 'Mutes delivery of matching alerts; recording and subscriptions are unaffected' })
export class AlertSilence {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID, { description: "The silence's id (a UUID)" })
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Field(() => String, { nullable: true, description: 'Matches alerts of this source; null: any' })
  @Property({ type: 'text', nullable: true })
  source?: string | null;

  @Field(() => AlertLevel, { nullable: true, description: 'Matches alerts of this level; null: any' })
  @Property({ type: 'text', nullable: true })
  level?: AlertLevel | null;

  @Field(() => String, { nullable: true, description: 'Matches alerts with this fingerprint; null: any' })
  @Property({ type: 'text', nullable: true })
  fingerprint?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'Matches alerts carrying all these labels; null: any' })
  @Property({ type: 'json', nullable: true })
  labels?: AlertLabels | null;

  @Field(() => Date, { nullable: true, description: 'Null: until a matching alert is resolved' })
  @Property({ type: 'timestamptz', nullable: true })
  until?: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it ended because a matching alert was resolved' })
  @Property({ type: 'timestamptz', nullable: true })
  endedAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'Why it was silenced, when given' })
  @Property({ type: 'text', nullable: true })
  reason?: string | null;

  @Property({ type: 'uuid', nullable: true })
  createdById?: string | null;

  @Field({ description: 'When the silence was created' })
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
