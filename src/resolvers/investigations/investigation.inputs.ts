import {
  ArrayMaxSize,
  IsEmail,
  IsIP,
  IsUUID,
  Length,
  Matches,
  MaxLength,
  IsOptional,
  ValidateBy,
} from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { JSONScalar } from '../../schema/scalars';
import {
  InvestigationOrderField,
  InvestigationStatus,
  OrderDirection,
  RiskLevel,
} from '../../schema/investigation.enums';
import { Sensitive, Sensitivity } from '../../schema/sensitive';
import { DateTimeRange, rangeOf } from '../../schema/time-range';
import {
  MAX_EVIDENCE_BYTES,
  type ActionData,
  type CreateInvestigationData,
  type FindingData,
  type InvestigationListFilter,
  type InvestigationListOrder,
  type UpdateInvestigationData,
} from '../../services/investigations/investigation.types';

/** JSON whose serialised form fits in `max` bytes. */
function JsonMaxBytes(max: number): PropertyDecorator {
  return ValidateBy({
    name: 'jsonMaxBytes',
    constraints: [max],
    validator: {
      validate: (value: unknown) => value === undefined || value === null || Buffer.byteLength(JSON.stringify(value)) <= max,
      defaultMessage: () => `must be at most ${max / 1024} KB of JSON`,
    },
  });
}

const TAG = /^[\p{L}\p{N}][\p{L}\p{N} _.:/-]*$/u;

@InputType({ description: 'A new investigation' })
export class CreateInvestigationInput implements CreateInvestigationData {
  @Field({ description: '3–200 characters' })
  @Length(3, 200)
  title!: string;

  @Field(() => String, { nullable: true, description: 'At most 10,000 characters' })
  @IsOptional()
  @MaxLength(10_000)
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'The query, rule or report that opened it; at most 2,000 characters' })
  @IsOptional()
  @MaxLength(2_000)
  trigger?: string | null;

  @Field(() => RiskLevel, { nullable: true, description: 'MEDIUM when omitted' })
  @IsOptional()
  riskLevel?: RiskLevel | null;

  @Field(() => ID, { nullable: true, description: 'Who is to work on it; must be an active account' })
  @IsOptional()
  @IsUUID('all', { message: 'assigneeId must be a user id' })
  assigneeId?: string | null;

  @Field(() => [String], { nullable: true, description: 'At most 20 tags of 1–50 characters' })
  @IsOptional()
  @ArrayMaxSize(20)
  @Length(1, 50, { each: true })
  @Matches(TAG, { each: true, message: 'each tag must start with a letter or digit and use letters, digits, space, _ . : / -' })
  tags?: string[] | null;
}

@InputType({ description: 'Changes to an investigation; omitted fields stay as they are' })
export class UpdateInvestigationInput implements UpdateInvestigationData {
  @Field(() => String, { nullable: true, description: '3–200 characters' })
  @IsOptional()
  @Length(3, 200)
  title?: string | null;

  @Field(() => String, { nullable: true, description: 'At most 10,000 characters; null clears it' })
  @IsOptional()
  @MaxLength(10_000)
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'At most 2,000 characters; null clears it' })
  @IsOptional()
  @MaxLength(2_000)
  trigger?: string | null;

  @Field(() => InvestigationStatus, { nullable: true, description: 'Must be an allowed transition (see InvestigationStatus)' })
  @IsOptional()
  status?: InvestigationStatus | null;

  @Field(() => RiskLevel, { nullable: true, description: 'The new risk level' })
  @IsOptional()
  riskLevel?: RiskLevel | null;

  @Field(() => ID, { nullable: true, description: 'null unassigns' })
  @IsOptional()
  @IsUUID('all', { message: 'assigneeId must be a user id' })
  assigneeId?: string | null;

  @Field(() => [String], { nullable: true, description: 'Replaces the tags: at most 20 of 1–50 characters' })
  @IsOptional()
  @ArrayMaxSize(20)
  @Length(1, 50, { each: true })
  @Matches(TAG, { each: true, message: 'each tag must start with a letter or digit and use letters, digits, space, _ . : / -' })
  tags?: string[] | null;
}

@InputType({ description: 'A finding to add to an investigation' })
export class FindingInput implements FindingData {
  @Field({ description: '1–2,000 characters' })
  @Length(1, 2_000)
  summary!: string;

  @Field(() => JSONScalar, { nullable: true, description: 'At most 64 KB of JSON' })
  @IsOptional()
  @JsonMaxBytes(MAX_EVIDENCE_BYTES)
  evidence?: unknown;

  @Field(() => RiskLevel, { nullable: true, description: 'MEDIUM when omitted' })
  @IsOptional()
  riskLevel?: RiskLevel | null;

  @Field(() => String, { nullable: true, description: 'At most 200 characters' })
  @IsOptional()
  @MaxLength(200)
  source?: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was observed, when known' })
  @IsOptional()
  observedAt?: Date | null;

  @Sensitive(Sensitivity.PII)
  @Field(() => String, { nullable: true, description: 'Personal data of the subject (shown only with ACCESS_PII)' })
  @IsOptional()
  @MaxLength(320)
  @IsEmail({}, { message: 'subjectEmail must be an email address' })
  subjectEmail?: string | null;

  @Sensitive(Sensitivity.PII)
  @Field(() => String, { nullable: true, description: 'IPv4 or IPv6' })
  @IsOptional()
  @IsIP(undefined, { message: 'subjectIp must be an IPv4 or IPv6 address' })
  subjectIp?: string | null;

  @Sensitive(Sensitivity.PII)
  @Field(() => String, { nullable: true, description: 'Personal data of the subject (shown only with ACCESS_PII)' })
  @IsOptional()
  @Length(1, 200)
  subjectName?: string | null;
}

@InputType({ description: 'A recommended action to add to an investigation' })
export class ActionInput implements ActionData {
  @Field({ description: '3–200 characters' })
  @Length(3, 200)
  title!: string;

  @Field(() => String, { nullable: true, description: 'At most 10,000 characters' })
  @IsOptional()
  @MaxLength(10_000)
  detail?: string | null;

  @Field(() => ID, { nullable: true, description: 'Who is to carry it out; must be an active account' })
  @IsOptional()
  @IsUUID('all', { message: 'ownerId must be a user id' })
  ownerId?: string | null;

  @Field(() => Date, { nullable: true, description: 'When it should be done' })
  @IsOptional()
  dueAt?: Date | null;
}

@InputType({ description: 'Narrows `investigations`; all given conditions must hold' })
export class InvestigationFilter {
  @Field(() => [InvestigationStatus], { nullable: true, description: 'Any of these statuses' })
  @IsOptional()
  @ArrayMaxSize(4)
  status?: InvestigationStatus[] | null;

  @Field(() => [RiskLevel], { nullable: true, description: 'Any of these risk levels' })
  @IsOptional()
  @ArrayMaxSize(4)
  riskLevel?: RiskLevel[] | null;

  @Field(() => ID, { nullable: true, description: 'Assigned to this user' })
  @IsOptional()
  @IsUUID('all', { message: 'assigneeId must be a user id' })
  assigneeId?: string | null;

  @Field(() => String, { nullable: true, description: 'Has this tag' })
  @IsOptional()
  @Length(1, 50)
  tag?: string | null;

  @Field(() => DateTimeRange, { nullable: true, description: 'Created within this range' })
  @IsOptional()
  createdAt?: DateTimeRange | null;

  @Field(() => Date, { nullable: true, description: 'Created at or after', deprecationReason: 'Use createdAt: { from }' })
  @IsOptional()
  createdFrom?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Created before', deprecationReason: 'Use createdAt: { to }' })
  @IsOptional()
  createdTo?: Date | null;

  @Field(() => String, {
    nullable: true,
    description: 'Full-text search over title, description and finding summaries (web search syntax: words, "phrases", -not, or)',
  })
  @IsOptional()
  @Length(1, 200)
  search?: string | null;
}

@InputType({ description: 'How to sort `investigations`; ties are broken by id in the same direction' })
export class InvestigationOrder implements InvestigationListOrder {
  @Field(() => InvestigationOrderField, { description: 'What to sort on' })
  field!: InvestigationOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.DESC, description: 'Ascending or descending (DESC when omitted)' })
  direction!: OrderDirection;
}

/** What the service lists by: the filter with its range resolved from either spelling. */
export function investigationListFilter(filter: InvestigationFilter | null | undefined): InvestigationListFilter | null {
  if (!filter) return null;
  const created = rangeOf(filter, 'createdAt', { from: 'createdFrom', to: 'createdTo' });
  return {
    status: filter.status,
    riskLevel: filter.riskLevel,
    assigneeId: filter.assigneeId,
    tag: filter.tag,
    search: filter.search,
    createdFrom: created.from,
    createdTo: created.to,
  };
}
