import { randomUUID } from 'node:crypto';
import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from '../permissions/roles';
import { Sensitive, Sensitivity } from '../schema/sensitive';
import { Node } from '../schema/node';

/**
 * Someone who signs in. The password hash and MFA secrets are never `@Field`s: they cannot reach
 * the schema. Every signed-in caller sees `id` and `name`; `email`, `role`, `disabled` and
 * `mfaEnabled` of another user need ADMIN_ACCESS (the permission map's `canSeeAccountDetails`).
 */
@ObjectType({ simpleResolvers: true, implements: Node, description: 'A person who signs in to Vigil' })
@Entity({ tableName: 'user' })
export class User {
  [OptionalProps]?: 'disabled' | 'mfaEnabled' | 'createdAt' | 'updatedAt';

  @Field(() => ID, { description: "The account's id (a UUID)" })
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Sensitive(Sensitivity.PII)
  @Field(() => String, { nullable: true, description: "Sign-in address, stored lower-case; another user's needs ADMIN_ACCESS (null with FORBIDDEN)" })
  @Property({ type: 'text' })
  email!: string;

  @Field({ description: 'Display name' })
  @Property({ type: 'text' })
  name!: string;

  @Field(() => Role, { nullable: true, description: "The role, which decides the permissions; another user's needs ADMIN_ACCESS (null with FORBIDDEN)" })
  @Property({ type: 'text' })
  role!: Role;

  /** argon2id, PHC string. */
  @Property({ type: 'text', lazy: false })
  passwordHash!: string;

  @Field(() => Boolean, {
    nullable: true,
    description: "A disabled account cannot sign in and has no sessions; another user's needs ADMIN_ACCESS (null with FORBIDDEN)",
  })
  @Property({ type: 'boolean', default: false })
  disabled: boolean = false;

  /** The active TOTP secret, AES-256-GCM encrypted (see `SecretBox`). */
  @Property({ type: 'text', nullable: true })
  mfaSecretEncrypted?: string | null;

  /** A secret handed out by `enrollMfa` and not yet confirmed. */
  @Property({ type: 'text', nullable: true })
  mfaPendingSecretEncrypted?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "Whether sign-in asks for a TOTP code; null with FORBIDDEN for another user's account without ADMIN_ACCESS",
  })
  @Property({ type: 'boolean', default: false })
  mfaEnabled: boolean = false;

  /** The last TOTP time step accepted, so a code cannot be used twice. */
  @Property({ type: 'integer', nullable: true })
  mfaLastStep?: number | null;

  @Field({ description: 'When the account was created' })
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
