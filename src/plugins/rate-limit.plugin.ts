import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import { requestMeta, type Context } from '../context';
import { rateLimited } from '../protection/http-errors';
import type { RateLimiters } from '../protection/rate-limiters';
import type { SecurityEventRecorder } from '../protection/security-events';

/** The `email` argument of a `login` root field, literal or variable; null when the operation signs no one in. */
export function loginEmail(operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): string | null {
  if (operation.operation !== 'mutation') return null;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.name.value !== 'login') continue;
    const arg = selection.arguments?.find((a) => a.name.value === 'email')?.value;
    if (arg?.kind === Kind.STRING) return arg.value.trim().toLowerCase();
    if (arg?.kind === Kind.VARIABLE) {
      const value = variables?.[arg.name.value];
      return typeof value === 'string' ? value.trim().toLowerCase() : '';
    }
    return '';
  }
  return null;
}

/**
 * Per-user rate limits (by role) for signed-in callers and the stricter per IP+email limit on
 * `login`. Anonymous HTTP requests are limited per IP earlier, at the HTTP layer (so malformed
 * ones count too); a request that carried an `Authorization` header but has no viewer is
 * limited per IP here. A refusal is HTTP 429 with `Retry-After` and RATE_LIMITED with
 * `extensions.retryAfter`, before any resolver runs.
 */
export function rateLimitPlugin(limiters: RateLimiters, record: SecurityEventRecorder): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue: ctx, request, operation }) {
          if (!limiters.enabled) return;
          const viewer = ctx.viewer;
          if (viewer) {
            const decision = await limiters.forRole(viewer.role).consume(`user:${viewer.id}`);
            if (!decision.allowed) {
              if (decision.firstRejection) {
                record(requestMeta(ctx), { action: 'RATE_LIMITED', reason: `more than ${decision.limit} requests per window (user)` });
              }
              throw rateLimited(decision, ctx.requestId);
            }
          } else if (request.http?.headers.get('authorization')) {
            const decision = await limiters.anonymous.consume(`ip:${ctx.ip}`);
            if (!decision.allowed) {
              if (decision.firstRejection) {
                record(requestMeta(ctx), { action: 'RATE_LIMITED', reason: `more than ${decision.limit} requests per window (IP)` });
              }
              throw rateLimited(decision, ctx.requestId);
            }
          }
          const email = operation ? loginEmail(operation, request.variables) : null;
          if (email !== null) {
            const decision = await limiters.login.consume(`${ctx.ip}|${email}`);
            if (!decision.allowed) {
              if (decision.firstRejection) {
                record(requestMeta(ctx), {
                  action: 'RATE_LIMITED',
                  reason: `more than ${decision.limit} sign-in attempts per window for one IP and email`,
                  changes: { email },
                });
              }
              throw rateLimited(decision, ctx.requestId, 'Too many sign-in attempts, retry later');
            }
          }
        },
      };
    },
  };
}
