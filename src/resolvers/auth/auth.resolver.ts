import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requestMeta, type Context } from '../../context';
import { Session } from '../../entities/session.entity';
import { User } from '../../entities/user.entity';
import { NotFoundError } from '../../errors';
import { Permission, permissionsOf } from '../../permissions/roles';
import { answerSignedInAccount } from '../../permissions/rules';
import type { AuthResult, MfaEnrollmentResult, RecoveryCodesResult } from '../../services/auth/auth.service';
import { AuthPayload, MfaEnrollment, MfaRecoveryCodes, RevokeSessionPayload } from './auth.types';
import { rowId } from '../../schema/node';
import { Sensitive, Sensitivity } from '../../schema/sensitive';

@Resolver(() => Session)
export class AuthResolver {
  @Query(() => User, { nullable: true, description: 'The signed-in user; null when not signed in' })
  me(@Ctx() ctx: Context): Promise<User | null> {
    return ctx.viewer ? ctx.services.users.byId(ctx.viewer.id) : Promise.resolve(null);
  }

  @Query(() => [Permission], { description: "The signed-in user's permissions; empty when not signed in, or while the role's required second factor is not enrolled" })
  myPermissions(@Ctx() ctx: Context): Permission[] {
    const viewer = ctx.viewer;
    return viewer ? permissionsOf(viewer.role).filter((p) => viewer.permissions.has(p)) : [];
  }

  @Query(() => [Session], { description: 'Signed in: your sessions that have not ended, newest first' })
  mySessions(@Ctx() ctx: Context): Promise<Session[]> {
    return ctx.services.auth.sessionsOf(ctx.viewer!.id);
  }

  @FieldResolver(() => User, { description: 'Whose session it is' })
  async user(@Root() session: Session, @Ctx() ctx: Context): Promise<User> {
    const user = await ctx.loaders.userById.load(session.userId);
    if (!user) throw new NotFoundError('User', session.userId);
    return user;
  }

  @FieldResolver(() => Boolean, { description: 'Whether this is the session of the request' })
  current(@Root() session: Session, @Ctx() ctx: Context): boolean {
    return session.id === ctx.viewer?.sessionId;
  }

  @Mutation(() => AuthPayload, { description: 'Anyone: signs in; `otp` is needed when the account has MFA' })
  login(
    @Sensitive(Sensitivity.PII, 'email') @Arg('email', () => String, { description: "The account's email (case-insensitive)" }) email: string,
    @Sensitive(Sensitivity.SECRET, 'password') @Arg('password', () => String, { description: "The account's password" }) password: string,
    @Sensitive(Sensitivity.SECRET, 'otp')
    @Arg('otp', () => String, { nullable: true, description: 'A six-digit TOTP code, or one of the recovery codes (each works once)' })
    otp: string | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<AuthResult> {
    return ctx.services.auth.login(requestMeta(ctx), email, password, otp).then(answerSignedInAccount);
  }

  @Mutation(() => AuthPayload, { description: 'Anyone holding a refresh token: rotates it and issues a new access token' })
  refreshSession(@Sensitive(Sensitivity.SECRET, 'refreshToken') @Arg('refreshToken', () => String, { description: 'The refresh token from the last AuthPayload' }) refreshToken: string, @Ctx() ctx: Context): Promise<AuthResult> {
    return ctx.services.auth.refresh(requestMeta(ctx), refreshToken).then(answerSignedInAccount);
  }

  @Mutation(() => Boolean, { description: 'Signed in: ends the current session' })
  logout(@Ctx() ctx: Context): Promise<boolean> {
    return ctx.services.auth.logout(requestMeta(ctx));
  }

  @Mutation(() => Boolean, {
    description: "Signed in: ends one of your sessions; ADMIN_ACCESS: anyone's. Answers true",
    deprecationReason: 'Use revokeSessionV2, which answers with the ended session\'s id for client caches',
  })
  revokeSession(@Arg('id', () => ID, { description: "The session's id" }) id: string, @Ctx() ctx: Context): Promise<boolean> {
    return ctx.services.auth.revokeSession(requestMeta(ctx), rowId(id));
  }

  @Mutation(() => RevokeSessionPayload, {
    description: "Signed in: ends one of your sessions; ADMIN_ACCESS: anyone's. Answers with its id, for client caches to drop from `mySessions`",
  })
  async revokeSessionV2(@Arg('id', () => ID, { description: "The session's id" }) id: string, @Ctx() ctx: Context): Promise<RevokeSessionPayload> {
    const revokedId = rowId(id);
    await ctx.services.auth.revokeSession(requestMeta(ctx), revokedId);
    return { revokedId };
  }

  @Mutation(() => MfaEnrollment, { description: 'Signed in: starts TOTP enrolment' })
  enrollMfa(@Ctx() ctx: Context): Promise<MfaEnrollmentResult> {
    return ctx.services.auth.enrollMfa(requestMeta(ctx));
  }

  @Mutation(() => Boolean, {
    description:
      'Signed in: activates TOTP with a code from the enrolled secret. Prefer confirmMfaWithRecoveryCodes, which also returns the recovery codes issued (here they are issued but not shown; regenerateRecoveryCodes shows new ones)',
  })
  async confirmMfa(@Sensitive(Sensitivity.SECRET, 'otp') @Arg('otp', () => String, { description: 'A current code from the enrolled secret' }) otp: string, @Ctx() ctx: Context): Promise<boolean> {
    await ctx.services.auth.confirmMfa(requestMeta(ctx), otp);
    return true;
  }

  @Mutation(() => MfaRecoveryCodes, {
    description: 'Signed in: activates TOTP with a code from the enrolled secret and returns ten single-use recovery codes (shown only here)',
  })
  confirmMfaWithRecoveryCodes(@Sensitive(Sensitivity.SECRET, 'otp') @Arg('otp', () => String, { description: 'A current code from the enrolled secret' }) otp: string, @Ctx() ctx: Context): Promise<RecoveryCodesResult> {
    return ctx.services.auth.confirmMfa(requestMeta(ctx), otp);
  }

  @Mutation(() => MfaRecoveryCodes, {
    description: 'Signed in with MFA: needs a current TOTP code; issues ten new recovery codes, and the old ones stop working',
  })
  regenerateRecoveryCodes(@Sensitive(Sensitivity.SECRET, 'otp') @Arg('otp', () => String, { description: 'A current TOTP code' }) otp: string, @Ctx() ctx: Context): Promise<RecoveryCodesResult> {
    return ctx.services.auth.regenerateRecoveryCodes(requestMeta(ctx), otp);
  }

  @Mutation(() => User, {
    description:
      "ADMIN_ACCESS: resets another user's lost second factor (TOTP off, recovery codes dropped) and revokes every session of that user; not your own account, nor one ranked above yours",
  })
  resetUserMfa(@Arg('id', () => ID, { description: "The user's id" }) id: string, @Ctx() ctx: Context): Promise<User> {
    return ctx.services.auth.resetSecondFactor(requestMeta(ctx), id);
  }

  @Mutation(() => Boolean, { description: 'Signed in: turns TOTP off; needs a current code' })
  disableMfa(@Sensitive(Sensitivity.SECRET, 'otp') @Arg('otp', () => String, { description: 'A current TOTP code' }) otp: string, @Ctx() ctx: Context): Promise<boolean> {
    return ctx.services.auth.disableMfa(requestMeta(ctx), otp);
  }
}
