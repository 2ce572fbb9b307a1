import { randomUUID } from 'node:crypto';
import { Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { ActionStatus } from '../schema/investigation.enums';
import { Node } from '../schema/node';

/** A step an investigation recommends, with its own workflow (see `ACTION_TRANSITIONS`). */
@ObjectType({ simpleResolvers: true, implements: Node, description: 'A step an investigation recommends' })
@Entity({ tableName: 'recommended_action' })
export class RecommendedAction {
  [OptionalProps]?: 'status' | 'detail' | 'ownerId' | 'dueAt' | 'createdById' | 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Field(() => ID)
  @Property({ type: 'uuid' })
  investigationId!: string;

  @Field()
  @Property({ type: 'text' })
  title!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  detail?: string | null = null;

  @Field(() => ActionStatus)
  @Enum({ items: () => ActionStatus, type: 'text' })
  status: ActionStatus = ActionStatus.PROPOSED;

  /** Resolved to a `User` through the per-request loader. */
  @Property({ type: 'uuid', nullable: true })
  ownerId?: string | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  dueAt?: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  createdById?: string | null = null;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
