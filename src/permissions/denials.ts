import type { GraphQLResolveInfo } from 'graphql';
import { requestMeta, type Context } from '../context';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import { traceDenial } from '../infra/tracing';

/**
 * The one place every permission denial goes through: records a `PERMISSION_DENIED` security event
 * (actor, ip, user agent, request id, the rule that denied and the field) and returns the error the
 * field answers with — UNAUTHENTICATED without a viewer, FORBIDDEN with one. Rules are cached per
 * request, so one rule denying several fields of a request is recorded once.
 */
export async function denyAccess(
  ctx: Context,
  info: Pick<GraphQLResolveInfo, 'parentType' | 'fieldName'> | null | undefined,
  rule: string,
  message?: string,
): Promise<UnauthenticatedError | ForbiddenError> {
  const error = ctx.viewer ? new ForbiddenError(message) : new UnauthenticatedError();
  traceDenial(rule, info ? `${info.parentType.name}.${info.fieldName}` : null);
  await ctx.services.audit.recordSecurityEvent(requestMeta(ctx), {
    action: 'PERMISSION_DENIED',
    outcome: 'DENIED',
    reason: rule,
    resourceType: info ? `${info.parentType.name}.${info.fieldName}` : null,
  });
  return error;
}
