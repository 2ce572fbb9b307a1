import { GraphQLError, type GraphQLErrorOptions } from 'graphql';

/** The codes every error leaves with in `extensions.code`: clients branch on these, so a value is never renamed or reused. */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  BAD_REQUEST = 'BAD_REQUEST',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  RATE_LIMITED = 'RATE_LIMITED',
  ACCOUNT_LOCKED = 'ACCOUNT_LOCKED',
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  GRAPHQL_VALIDATION_FAILED = 'GRAPHQL_VALIDATION_FAILED',
  GRAPHQL_PARSE_FAILED = 'GRAPHQL_PARSE_FAILED',
  PERSISTED_QUERY_NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED = 'PERSISTED_QUERY_NOT_SUPPORTED',
  OPERATION_RESOLUTION_FAILURE = 'OPERATION_RESOLUTION_FAILURE',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** Codes that are a deliberate answer to the client and pass `formatError` unmasked. */
export const PUBLIC_ERROR_CODES: ReadonlySet<string> = new Set(
  Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR),
);

type Extensions = Record<string, unknown>;

/** Base of every deliberate Vigil error: a GraphQLError with a fixed `extensions.code`. */
export abstract class VigilError extends GraphQLError {
  abstract readonly code: ErrorCode;
  protected constructor(message: string, code: ErrorCode, extensions: Extensions = {}, options: GraphQLErrorOptions = {}) {
    super(message, { ...options, extensions: { ...options.extensions, ...extensions, code } });
  }
}

export class UnauthenticatedError extends VigilError {
  readonly code = ErrorCode.UNAUTHENTICATED;
  constructor(message = 'You must be signed in to do this', extensions: Record<string, unknown> = {}) {
    super(message, ErrorCode.UNAUTHENTICATED, extensions);
  }
}

/**
 * The access token's time is up, though its session may still be alive: refresh it
 * (`refreshSession`) and retry. `extensions.tokenExpired` tells clients apart from "sign in again".
 */
export class AccessTokenExpiredError extends UnauthenticatedError {
  constructor() {
    super('The access token has expired', { tokenExpired: true });
  }
}

export class ForbiddenError extends VigilError {
  readonly code = ErrorCode.FORBIDDEN;
  constructor(message = 'You are not allowed to do this') {
    super(message, ErrorCode.FORBIDDEN);
  }
}

/** A user's input is wrong; `field` names the argument or input field at fault. */
export class BadUserInputError extends VigilError {
  readonly code = ErrorCode.BAD_USER_INPUT;
  constructor(message: string, field?: string, extensions: Extensions = {}) {
    super(message, ErrorCode.BAD_USER_INPUT, field ? { field, ...extensions } : extensions);
  }
}

/** The HTTP request itself is malformed (body, content type, JSON). */
export class BadRequestError extends VigilError {
  readonly code = ErrorCode.BAD_REQUEST;
  constructor(message: string) {
    super(message, ErrorCode.BAD_REQUEST);
  }
}

export class NotFoundError extends VigilError {
  readonly code = ErrorCode.NOT_FOUND;
  constructor(resource: string, id?: string) {
    super(id ? `${resource} ${id} was not found` : `${resource} was not found`, ErrorCode.NOT_FOUND, { resource });
  }
}

/** A write based on a stale version, or one that collides with existing state. */
export class ConflictError extends VigilError {
  readonly code = ErrorCode.CONFLICT;
  constructor(message: string, extensions: Extensions = {}) {
    super(message, ErrorCode.CONFLICT, extensions);
  }
}

export class RateLimitedError extends VigilError {
  readonly code = ErrorCode.RATE_LIMITED;
  constructor(readonly retryAfter: number, message = 'Too many requests, retry later') {
    super(message, ErrorCode.RATE_LIMITED, { retryAfter });
  }
}

export class AccountLockedError extends VigilError {
  readonly code = ErrorCode.ACCOUNT_LOCKED;
  constructor(
    readonly retryAfter: number,
    message = 'This account is temporarily locked after repeated failed sign-ins',
  ) {
    super(message, ErrorCode.ACCOUNT_LOCKED, { retryAfter });
  }
}

export class QueryTooComplexError extends VigilError {
  readonly code = ErrorCode.QUERY_TOO_COMPLEX;
  constructor(message: string, extensions: Extensions = {}) {
    super(message, ErrorCode.QUERY_TOO_COMPLEX, extensions);
  }
}

/** Why a request answered SERVICE_UNAVAILABLE (`extensions.reason`). */
export type UnavailableReason = 'DEPENDENCY_UNAVAILABLE' | 'SHUTTING_DOWN' | 'MAINTENANCE';

/** Seconds a client is told to wait before retrying a SERVICE_UNAVAILABLE answer, unless said otherwise. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * A dependency the operation needs (database, pg_dump, Redis) is not available, the instance is
 * draining, or maintenance refuses writes: retryable, with `extensions.retryAfter` (seconds) and
 * `extensions.reason`.
 */
export class ServiceUnavailableError extends VigilError {
  readonly code = ErrorCode.SERVICE_UNAVAILABLE;
  readonly retryAfter: number;
  constructor(message: string, options: { retryAfter?: number; reason?: UnavailableReason } = {}) {
    const retryAfter = options.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS;
    super(message, ErrorCode.SERVICE_UNAVAILABLE, { retryAfter, reason: options.reason ?? 'DEPENDENCY_UNAVAILABLE' });
    this.retryAfter = retryAfter;
  }
}

/** The answer to a request that met a dependency outage: generic, retryable, naming no address. */
export function dependencyUnavailable(): ServiceUnavailableError {
  return new ServiceUnavailableError('A service Vigil depends on is unavailable; retry later');
}

/** True for errors whose code and message are meant for the client. */
export function isPublicError(error: unknown): error is GraphQLError {
  return (
    error instanceof GraphQLError &&
    typeof error.extensions?.code === 'string' &&
    PUBLIC_ERROR_CODES.has(error.extensions.code)
  );
}
