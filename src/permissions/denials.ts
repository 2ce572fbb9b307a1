import type { GraphQLResolveInfo } from 'graphql';
import { requestMeta, type Context } from '../context';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import { traceDenial } from '../infra/tracing';

/** `extensions.reason` of a denial to a session whose role requires a second factor it has not enrolled. */
export const MFA_ENROLLMENT_REQUIRED = 'MFA_ENROLLMENT_REQUIRED';
const MFA_ENROLLMENT_MESSAGE = 'Your role requires a second factor: enrol one (enrollMfa, then confirmMfaWithRecoveryCodes) before anything else';

/**
 * The one place every permission denial goes through: records a `PERMISSION_DENIED` security event
 * (actor, ip, user agent, request id, the rule that denied and the field) and returns the error the
 * field answers with — UNAUTHENTICATED without a viewer, FORBIDDEN with one (with
 * `reason: MFA_ENROLLMENT_REQUIRED` for a session that must enrol a second factor first). Rules are cached per
 * request, so one rule denying several fields of a request is recorded once.
 */
export async function denyAccess(
  ctx: Context,
  info: Pick<GraphQLResolveInfo, 'parentType' | 'fieldName'> | null | undefined,
  rule: string,
  message?: string,
): Promise<UnauthenticatedError | ForbiddenError> {
  const enrolling = ctx.viewer?.mfaEnrollmentRequired === true;
  const error = !ctx.viewer
    ? new UnauthenticatedError()
    : enrolling
      ? new ForbiddenError(MFA_ENROLLMENT_MESSAGE)
      : new ForbiddenError(message);
  if (enrolling) error.extensions.reason = MFA_ENROLLMENT_REQUIRED;
  traceDenial(rule, info ? `${info.parentType.name}.${info.fieldName}` : null);
  await ctx.services.audit.recordSecurityEvent(requestMeta(ctx), {
    action: 'PERMISSION_DENIED',
    outcome: 'DENIED',
    reason: rule,
    resourceType: info ? `${info.parentType.name}.${info.fieldName}` : null,
  });
  return error;
}
