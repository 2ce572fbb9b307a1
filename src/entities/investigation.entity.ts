import { randomUUID } from 'node:crypto';
import { ArrayType, Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { InvestigationStatus, RiskLevel } from '../schema/investigation.enums';
import { Node } from '../schema/node';

/**
 * A case analysts work on. `version` grows by one with every update of the investigation's own
 * fields; `updateInvestigation` must name the version it read (optimistic concurrency). Adding
 * findings, actions or notes moves `updatedAt` but not `version`, so they never make an edit stale.
 */
@ObjectType({ simpleResolvers: true, implements: Node, description: 'A case trust-and-safety analysts work on' })
@Entity({ tableName: 'investigation' })
export class Investigation {
  [OptionalProps]?: 'status' | 'riskLevel' | 'tags' | 'version' | 'createdAt' | 'updatedAt' | 'description' | 'trigger' | 'assigneeId' | 'closedAt';

  @Field(() => ID, { description: "The investigation's id (a UUID)" })
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Field({ description: '3–200 characters' })
  @Property({ type: 'text' })
  title!: string;

  @Field(() => String, { nullable: true, description: 'Free text, at most 10,000 characters' })
  @Property({ type: 'text', nullable: true })
  description?: string | null = null;

  @Field(() => String, { nullable: true, description: 'The query, rule or report that opened the investigation' })
  @Property({ type: 'text', nullable: true })
  trigger?: string | null = null;

  @Field(() => InvestigationStatus, { description: 'Where it stands in the workflow (see InvestigationStatus)' })
  @Enum({ items: () => InvestigationStatus, type: 'text' })
  status: InvestigationStatus = InvestigationStatus.OPEN;

  @Field(() => RiskLevel, { description: 'How serious it is' })
  @Enum({ items: () => RiskLevel, type: 'text' })
  riskLevel: RiskLevel = RiskLevel.MEDIUM;

  /** Resolved to a `User` through the per-request loader. */
  @Property({ type: 'uuid', nullable: true })
  assigneeId?: string | null = null;

  @Property({ type: 'uuid' })
  createdById!: string;

  @Field(() => [String], { description: 'At most 20 tags of 1–50 characters, in the order given' })
  @Property({ type: ArrayType })
  tags: string[] = [];

  @Field(() => Int, { description: 'Grows with every update; pass it as `expectedVersion` to update' })
  @Property({ type: 'integer' })
  version: number = 1;

  @Field({ description: 'When it was opened' })
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Field({ description: 'When it or one of its findings, actions or notes last changed' })
  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();

  @Field(() => Date, { nullable: true, description: 'When it was last closed; null while not CLOSED' })
  @Property({ type: 'timestamptz', nullable: true })
  closedAt?: Date | null = null;
}
