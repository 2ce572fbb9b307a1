import { randomUUID } from 'node:crypto';
import { Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { JSONScalar } from '../schema/scalars';
import { RiskLevel } from '../schema/investigation.enums';
import { Node } from '../schema/node';

/**
 * Something an investigation found. `subjectEmail`, `subjectIp` and `subjectName` are personal
 * data: the permission map hides them from viewers without ACCESS_PII, and every read by a viewer
 * who has it is audited (`PII_READ`).
 */
@ObjectType({ simpleResolvers: true, implements: Node, description: 'Evidence an investigation found; subject* fields need ACCESS_PII' })
@Entity({ tableName: 'finding' })
export class Finding {
  [OptionalProps]?: 'riskLevel' | 'createdAt' | 'evidence' | 'source' | 'observedAt' | 'subjectEmail' | 'subjectIp' | 'subjectName' | 'createdById';

  @Field(() => ID, { description: "The finding's id (a UUID)" })
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid' })
  investigationId!: string;

  @Field({ description: 'What was found, 1–2,000 characters' })
  @Property({ type: 'text' })
  summary!: string;

  @Field(() => JSONScalar, { nullable: true, description: 'Supporting data as given (JSON, at most 64 KB)' })
  @Property({ type: 'json', nullable: true })
  evidence?: unknown = null;

  @Field(() => RiskLevel, { description: 'How serious the finding is' })
  @Enum({ items: () => RiskLevel, type: 'text' })
  riskLevel: RiskLevel = RiskLevel.MEDIUM;

  @Field(() => String, { nullable: true, description: 'Where the finding came from (tool, feed, report)' })
  @Property({ type: 'text', nullable: true })
  source?: string | null = null;

  @Field(() => Date, { nullable: true, description: 'When the finding was observed, when known' })
  @Property({ type: 'timestamptz', nullable: true })
  observedAt?: Date | null = null;

  @Property({ type: 'text', nullable: true })
  subjectEmail?: string | null = null;

  @Property({ type: 'text', nullable: true })
  subjectIp?: string | null = null;

  @Property({ type: 'text', nullable: true })
  subjectName?: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  createdById?: string | null = null;

  @Field({ description: 'When it was added to the investigation' })
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
