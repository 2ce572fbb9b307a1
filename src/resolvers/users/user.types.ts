import { IsEmail, IsOptional, Length, MaxLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { User } from '../../entities/user.entity';
import { Role } from '../../permissions/roles';
import { ConnectionType } from '../../schema/connection';
import { ListOrderInput } from '../../schema/list-order';
import { Sensitive, Sensitivity } from '../../schema/sensitive';
import { DateTimeRange, rangeOf, type TimeBounds } from '../../schema/time-range';

/** A page of users. */
export const UserConnection = ConnectionType(User, 'User');

/** `users(orderBy:)`. */
export const UserOrder = ListOrderInput('User', { CREATED_AT: 'CREATED_AT' }, { CREATED_AT: 'When the account was created' }, 'users');

@InputType({ description: 'Narrows `users`; all given conditions must hold' })
export class UserFilter {
  @Field(() => Role, { nullable: true, description: 'Only accounts with this role' })
  role?: Role | null;

  @Field(() => Boolean, { nullable: true, description: 'Only disabled (true) or only active (false) accounts' })
  disabled?: boolean | null;

  @Field(() => DateTimeRange, { nullable: true, description: 'Created within this range' })
  createdAt?: DateTimeRange | null;
}

/** What the service lists accounts by. */
export function userListFilter(filter: UserFilter | null | undefined): { role?: Role | null; disabled?: boolean | null; createdAt: TimeBounds } | null {
  return filter ? { role: filter.role, disabled: filter.disabled, createdAt: rangeOf(filter, 'createdAt') } : null;
}

@InputType({ description: 'A new account; its role may not be above your own' })
export class CreateUserInput {
  @Sensitive(Sensitivity.PII)
  @Field({ description: 'Sign-in address; unique, case-insensitive' })
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @Field({ description: 'Display name, 1–200 characters' })
  @Length(1, 200)
  name!: string;

  @Field(() => Role, { description: 'No higher than your own' })
  role!: Role;

  @Sensitive(Sensitivity.SECRET)
  @Field({ description: 'At least 12 characters' })
  @Length(12, 256)
  password!: string;
}

@InputType({ description: 'Changes to an account; omitted fields stay as they are' })
export class UpdateUserInput {
  @Field(() => String, { nullable: true, description: 'New display name' })
  @IsOptional()
  @Length(1, 200)
  name?: string | null;

  @Field(() => Role, { nullable: true, description: 'Not your own, and not above your own' })
  role?: Role | null;

  @Field(() => Boolean, { nullable: true, description: 'Disabling revokes every session of the account' })
  disabled?: boolean | null;
}
