import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { AuditLog, AuditOutcome } from '../../entities/audit-log.entity';
import { ConnectionType } from '../../schema/connection';
import { ListOrderInput } from '../../schema/list-order';
import { Node } from '../../schema/node';
import { BigIntScalar } from '../../schema/scalars';
import { DateTimeRange, rangeOf } from '../../schema/time-range';
import type { AuditLogQuery } from '../../services/audit/audit.service';

/** A page of audit entries, newest first. */
export const AuditLogConnection = ConnectionType(AuditLog, 'AuditLog');

/** `auditLogs(orderBy:)`. */
export const AuditLogOrder = ListOrderInput('AuditLog', { SEQ: 'SEQ' }, { SEQ: 'Position in the chain, which is the order they were written' }, 'auditLogs');

@InputType({ description: 'Criteria for audit entries; they combine (AND)' })
export class AuditLogFilter {
  @Field(() => ID, { nullable: true, description: 'The acting user' })
  actorId?: string | null;

  @Field(() => String, { nullable: true, description: 'Exact action, e.g. INVESTIGATION_UPDATE' })
  action?: string | null;

  @Field(() => String, { nullable: true, description: 'Only entries about this kind of resource' })
  resourceType?: string | null;

  @Field(() => String, { nullable: true, description: 'Only entries about this resource id' })
  resourceId?: string | null;

  @Field(() => AuditOutcome, { nullable: true, description: 'Only entries with this outcome' })
  outcome?: AuditOutcome | null;

  @Field(() => DateTimeRange, { nullable: true, description: 'Entries written within this range' })
  at?: DateTimeRange | null;

  @Field(() => Date, { nullable: true, description: 'Entries at or after this time', deprecationReason: 'Use at: { from }' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Entries before this time', deprecationReason: 'Use at: { to }' })
  to?: Date | null;

  @Field(() => String, {
    nullable: true,
    description: 'Case-insensitive text in the action, resource type or id, actor email or reason (at most 200 characters)',
  })
  text?: string | null;
}

/**
 * What the service reads entries by: the filter with its range resolved from either spelling, and
 * only the conditions given (an export's audit entry records it as asked).
 */
export function auditLogQuery(filter: AuditLogFilter | null | undefined): AuditLogQuery | null {
  if (!filter) return null;
  const { from, to } = rangeOf(filter, 'at', { from: 'from', to: 'to' });
  const { actorId, action, resourceType, resourceId, outcome, text } = filter;
  const query: AuditLogQuery = { actorId, action, resourceType, resourceId, outcome, text, from, to };
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== null && value !== undefined)) as AuditLogQuery;
}

@ObjectType({ simpleResolvers: true, implements: Node, description: 'The outcome of walking the audit chain' })
export class AuditChainVerification {
  @Field(() => ID, { description: 'Always `AuditChainVerification`' })
  id!: string;

  @Field({ description: 'True when every entry after the retention anchor verifies' })
  ok!: boolean;

  @Field(() => BigIntScalar, { description: 'Entries checked' })
  checkedCount!: number;

  @Field(() => BigIntScalar, { nullable: true, description: 'The first entry that does not verify, or where one was removed' })
  firstBrokenSeq!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Audit entries as JSON Lines, oldest first; each line holds every stored field' })
export class AuditExport {
  @Field({ description: 'Always "jsonl"' })
  format!: string;

  @Field(() => Int, { description: 'How many entries it holds' })
  count!: number;

  @Field({ description: 'The entries as JSON Lines' })
  content!: string;

  @Field({ description: 'SHA-256 (hex) of content' })
  sha256!: string;
}
