import { randomUUID } from 'node:crypto';
import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { Sensitive, Sensitivity } from '../schema/sensitive';
import { Node } from '../schema/node';

/**
 * A signed-in session: one login, renewed by rotating refresh tokens until it is revoked, idles
 * out or reaches its absolute lifetime.
 */
@ObjectType({ simpleResolvers: true, implements: Node, description: 'A signed-in session of a user' })
@Entity({ tableName: 'session' })
export class Session {
  [OptionalProps]?: 'createdAt' | 'lastSeenAt';

  @Field(() => ID, { description: "The session's id (a UUID)" })
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Field(() => ID, { description: 'The id of the user it belongs to (the object: `user`)' })
  @Property({ type: 'uuid' })
  userId!: string;

  @Sensitive(Sensitivity.PII)
  @Field(() => String, { nullable: true, description: 'The address it signed in from' })
  @Property({ type: 'text', nullable: true })
  ip?: string | null;

  @Field(() => String, { nullable: true, description: 'The User-Agent it signed in with' })
  @Property({ type: 'text', nullable: true })
  userAgent?: string | null;

  @Field({ description: 'When it signed in' })
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Field({ description: 'When it was last used' })
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  lastSeenAt: Date = new Date();

  @Field({ description: 'When the session ends at the latest (absolute lifetime)' })
  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt?: Date | null;

  @Property({ type: 'text', nullable: true })
  revokedReason?: string | null;
}

/** One refresh token of a session, kept as a SHA-256 hash; a used one presented again means theft. */
@Entity({ tableName: 'refresh_token' })
export class RefreshToken {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'text' })
  tokenHash!: string;

  @Property({ type: 'uuid' })
  sessionId!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  usedAt?: Date | null;

  /** SHA-256 of the address and user agent that used it (the reuse grace applies to that client only). */
  @Property({ type: 'text', nullable: true })
  clientHash?: string | null;

  /** The pair it was rotated into, encrypted (`SecretBox`), handed out again on a reuse within the grace window. */
  @Property({ type: 'text', nullable: true })
  successorSealed?: string | null;
}
