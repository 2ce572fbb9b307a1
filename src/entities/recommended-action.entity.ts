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

  @Field(() => ID, { description: "The action's id (a UUID)" })
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Field(() => ID, { description: 'The id of the investigation it belongs to (the object: `investigation`)' })
  @Property({ type: 'uuid' })
  investigationId!: string;

  @Field({ description: '3–200 characters' })
  @Property({ type: 'text' })
  title!: string;

  @Field(() => String, { nullable: true, description: 'Free text, at most 10,000 characters' })
  @Property({ type: 'text', nullable: true })
  detail?: string | null = null;

  @Field(() => ActionStatus, { description: 'Where it stands (see ActionStatus)' })
  @Enum({ items: () => ActionStatus, type: 'text' })
  status: ActionStatus = ActionStatus.PROPOSED;

  /** Resolved to a `User` through the per-request loader. */
  @Property({ type: 'uuid', nullable: true })
  ownerId?: string | null = null;

  @Field(() => Date, { nullable: true, description: 'When it should be done, when set' })
  @Property({ type: 'timestamptz', nullable: true })
  dueAt?: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  createdById?: string | null = null;

  @Field({ description: 'When it was recommended' })
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Field({ description: 'When its status last changed' })
  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
