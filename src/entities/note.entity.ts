import { randomUUID } from 'node:crypto';
import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { Node } from '../schema/node';

/** A comment on an investigation. */
@ObjectType({ simpleResolvers: true, implements: Node, description: 'A comment on an investigation' })
@Entity({ tableName: 'note' })
export class Note {
  [OptionalProps]?: 'createdAt' | 'authorId';

  @Field(() => ID, { description: "The note's id (a UUID)" })
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid' })
  investigationId!: string;

  /** Resolved to a `User` through the per-request loader; null once the author is gone. */
  @Property({ type: 'uuid', nullable: true })
  authorId?: string | null = null;

  @Field({ description: 'The comment, 1–10,000 characters' })
  @Property({ type: 'text' })
  body!: string;

  @Field({ description: 'When it was written' })
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
