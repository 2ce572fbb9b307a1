import { HeaderMap } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { RateLimitedError } from '../errors';
import type { LimitDecision } from './resilient-limiter';

/**
 * Gives an error the HTTP status (and headers) Apollo answers with, and the request id (errors
 * thrown before Apollo's response hooks run would otherwise leave without it). `formatError`
 * removes `extensions.http` from the body; Apollo reads it first.
 */
export function withHttp<E extends GraphQLError>(
  error: E,
  status: number,
  requestId: string,
  headers: Record<string, string> = {},
): E {
  const extensions = error.extensions as Record<string, unknown>;
  extensions.http = { status, headers: new HeaderMap(Object.entries(headers)) };
  extensions.requestId = requestId;
  return error;
}

/** A refused rate-limit decision as HTTP 429 with `Retry-After` and RATE_LIMITED with `extensions.retryAfter`. */
export function rateLimited(decision: LimitDecision, requestId: string, message?: string): RateLimitedError {
  return withHttp(new RateLimitedError(decision.retryAfterSeconds, message), 429, requestId, {
    'retry-after': String(decision.retryAfterSeconds),
  });
}
