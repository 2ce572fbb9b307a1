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

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Field()
  @Property({ type: 'text' })
  title!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  description?: string | null = null;

  @Field(() => String, { nullable: true, description: 'The query, rule or report that opened the investigation' })
  @Property({ type: 'text', nullable: true })
  trigger?: string | null = null;

  @Field(() => InvestigationStatus)
  @Enum({ items: () => InvestigationStatus, type: 'text' })
  status: InvestigationStatus = InvestigationStatus.OPEN;

  @Field(() => RiskLevel)
  @Enum({ items: () => RiskLevel, type: 'text' })
  riskLevel: RiskLevel = RiskLevel.MEDIUM;

  /** Resolved to a `User` through the per-request loader. */
  @Property({ type: 'uuid', nullable: true })
  assigneeId?: string | null = null;

  @Property({ type: 'uuid' })
  createdById!: string;

  @Field(() => [String])
  @Property({ type: ArrayType })
  tags: string[] = [];

  @Field(() => Int, { description: 'Grows with every update; pass it as `expectedVersion` to update' })
  @Property({ type: 'integer' })
  version: number = 1;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();

  @Field(() => Date, { nullable: true, description: 'When it was last closed; null while not CLOSED' })
  @Property({ type: 'timestamptz', nullable: true })
  closedAt?: Date | null = null;
}
