import { Field, ID, ObjectType } from 'type-graphql';
import { User } from '../../entities/user.entity';
import { Sensitive, Sensitivity } from '../../schema/sensitive';

/** What a sign-in or a refresh returns. */
@ObjectType({ simpleResolvers: true, description: 'An access token (short-lived JWT) and the refresh token that renews it' })
export class AuthPayload {
  @Sensitive(Sensitivity.SECRET)
  @Field({ description: 'Send as `Authorization: Bearer <accessToken>`' })
  accessToken!: string;

  @Sensitive(Sensitivity.SECRET)
  @Field({
    description:
      'Opaque; exchange it once with refreshSession. A second use revokes the session, unless the same client repeats it within a few seconds (it then gets the same new pair)',
  })
  refreshToken!: string;

  @Field({ description: 'When the access token expires' })
  expiresAt!: Date;

  @Field(() => User, { description: 'The signed-in user' })
  user!: User;

  @Field({
    description:
      "The user's role requires a second factor the user has not enrolled: until enrollMfa and confirmMfaWithRecoveryCodes succeed, this session may only read me, myPermissions, mySessions and health, enrol, and sign out (anything else is FORBIDDEN with reason MFA_ENROLLMENT_REQUIRED)",
  })
  mfaEnrollmentRequired!: boolean;
}

/** A TOTP enrolment to confirm with `confirmMfa`. */
@ObjectType({ simpleResolvers: true, description: 'A new TOTP secret; it becomes active once confirmMfa sees a code from it' })
export class MfaEnrollment {
  @Sensitive(Sensitivity.SECRET)
  @Field({ description: 'Base32 secret for manual entry' })
  secret!: string;

  @Sensitive(Sensitivity.SECRET)
  @Field({ description: 'otpauth:// URI to show as a QR code' })
  otpauthUri!: string;
}

/** Recovery codes, shown once: each replaces a TOTP code once at sign-in. */
@ObjectType({
  simpleResolvers: true,
  description: 'Ten single-use recovery codes, shown only now (only their hashes are stored); each can replace a one-time code once at sign-in',
})
export class MfaRecoveryCodes {
  @Sensitive(Sensitivity.SECRET)
  @Field(() => [String], { description: 'Keep them somewhere safe; generating new ones makes these stop working' })
  recoveryCodes!: string[];

  @Field({ description: 'When these codes were issued' })
  generatedAt!: Date;
}

/** What `revokeSessionV2` answers: the id a client removes from its cached `mySessions`. */
@ObjectType({ simpleResolvers: true, description: 'The answer of revokeSessionV2' })
export class RevokeSessionPayload {
  @Field(() => ID, { description: 'The id of the session that was ended; it is no longer among `mySessions` (Relay: `revokedId @deleteRecord`)' })
  revokedId!: string;
}
