import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Role } from '../permissions/roles';
import { BigIntScalar, JSONScalar } from '../schema/scalars';
import { Node } from '../schema/node';

/** How the audited attempt ended. */
export enum AuditOutcome {
  SUCCESS = 'SUCCESS',
  DENIED = 'DENIED',
  FAILED = 'FAILED',
}

registerEnumType(AuditOutcome, {
  name: 'AuditOutcome',
  description: 'How the audited attempt ended',
  valuesConfig: {
    SUCCESS: { description: 'It was done' },
    DENIED: { description: 'A permission or limit refused it' },
    FAILED: { description: 'It was allowed but did not succeed (bad input, conflict, error)' },
  },
});

/**
 * One entry of the append-only, hash-chained audit trail. Rows are written only by
 * `AuditService` (raw SQL under the chain lock) and never changed: a database trigger refuses
 * UPDATE, DELETE (outside the retention job) and TRUNCATE.
 */
@Entity({ tableName: 'audit_log' })
@ObjectType({ simpleResolvers: true, implements: Node, description: 'An entry of the tamper-evident audit trail' })
export class AuditLog {
  @PrimaryKey({ type: 'uuid' })
  @Field(() => ID, { description: "The entry's id (a UUID)" })
  id!: string;

  /** Position in the chain: 1, 2, 3 … without gaps (a gap means a removed entry). */
  @Property({ type: 'bigint', unique: true })
  @Field(() => BigIntScalar, { description: 'Position in the chain: 1, 2, 3 … without gaps (a gap means a removed entry)' })
  seq!: string;

  @Property({ type: 'timestamptz' })
  @Index()
  @Field({ description: 'When it happened' })
  at!: Date;

  @Property({ type: 'uuid', nullable: true })
  @Field(() => ID, { nullable: true, description: 'Null when the system itself acted' })
  actorId!: string | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: "The actor's email at the time" })
  actorEmail!: string | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => Role, { nullable: true, description: 'The role the actor held at the time' })
  actorRole!: Role | null;

  @Property({ type: 'text' })
  @Field({ description: 'What was done, e.g. INVESTIGATION_UPDATE or PERMISSION_DENIED (an open set: areas add actions)' })
  action!: string;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'The kind of thing acted on, e.g. Investigation' })
  resourceType!: string | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'The id of the thing acted on' })
  resourceId!: string | null;

  @Property({ type: 'text' })
  @Field(() => AuditOutcome, { description: 'How the attempt ended' })
  outcome!: AuditOutcome;

  @Property({ type: 'json', nullable: true })
  @Field(() => JSONScalar, { nullable: true, description: 'Before/after of the changed fields; personal data masked' })
  changes!: Record<string, unknown> | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: "The client's address" })
  ip!: string | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: "The client's User-Agent" })
  userAgent!: string | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'The request that did it (also in the logs)' })
  requestId!: string | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'The GraphQL operation name, when the client gave one' })
  operationName!: string | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Why, e.g. the rule that denied' })
  reason!: string | null;

  /** SHA-256 (hex) of the entry's canonical content together with `prevHash`. */
  @Property({ type: 'text' })
  @Field({ description: "SHA-256 (hex) over this entry and the previous entry's hash" })
  hash!: string;

  /** The previous entry's hash; null only for the very first entry of the chain. */
  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: "The previous entry's hash; null for the first entry after the retention anchor" })
  prevHash!: string | null;
}
