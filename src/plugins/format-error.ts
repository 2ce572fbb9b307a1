import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { dependencyUnavailable, ErrorCode, isPublicError } from '../errors';
import type { Logger } from '../infra/logger';
import { isDependencyOutage } from '../infra/outage';
import { activeTraceIds } from '../infra/tracing';

/** Codes Apollo itself assigns to request-level mistakes; they are safe to show. */
const APOLLO_PUBLIC_CODES = new Set<string>([
  ErrorCode.GRAPHQL_PARSE_FAILED,
  ErrorCode.GRAPHQL_VALIDATION_FAILED,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.BAD_REQUEST,
  ErrorCode.PERSISTED_QUERY_NOT_FOUND,
  ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
  ErrorCode.OPERATION_RESOLUTION_FAILURE,
]);

interface ValidationFailure {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationFailure[];
}

function flattenValidation(errors: ValidationFailure[], prefix = ''): { field: string; messages: string[] }[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flattenValidation(e.children ?? [], field)];
  });
}

/**
 * Shapes every error that leaves the gateway: deliberate errors keep their code and message,
 * class-validator failures name the fields at fault, a dependency outage (PostgreSQL, Redis
 * unreachable) answers SERVICE_UNAVAILABLE with `retryAfter`, and anything else is masked as
 * INTERNAL_SERVER_ERROR and logged with its stack. Never includes a stack trace. With `traceIds`
 * (development) and tracing on, `extensions.traceId` names the trace the error belongs to.
 */
export function createFormatError(logger: Logger, options: { traceIds?: boolean } = {}) {
  const shape = shapeError(logger);
  if (!options.traceIds) return shape;
  // Development only: the trace id beside the request id, to find the error's trace.
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const shaped = shape(formatted, error);
    const ids = activeTraceIds();
    return ids ? { ...shaped, extensions: { ...shaped.extensions, traceId: ids.traceId } } : shaped;
  };
}

function shapeError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const base = { locations: formatted.locations, path: formatted.path };
    if (original instanceof GraphQLError && Array.isArray(original.extensions?.validationErrors)) {
      const fields = flattenValidation(original.extensions.validationErrors as ValidationFailure[]);
      const message = fields.map((f) => `${f.field}: ${f.messages.join('; ')}`).join(' · ') || 'Invalid input';
      return {
        ...base,
        message: `Invalid input — ${message}`,
        extensions: { code: ErrorCode.BAD_USER_INPUT, field: fields[0]?.field, fields },
      };
    }
    if (isPublicError(original)) {
      const { stacktrace: _s, http: _h, ...extensions } = original.extensions as Record<string, unknown>;
      return { ...base, message: original.message, extensions };
    }
    const code = formatted.extensions?.code;
    const isBareGraphQLError = !(original instanceof Error) || original instanceof GraphQLError;
    if (typeof code === 'string' && APOLLO_PUBLIC_CODES.has(code) && isBareGraphQLError) {
      const { stacktrace: _s, exception: _e, http: _h, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
      return { ...base, message: formatted.message, extensions };
    }
    if (isDependencyOutage(original)) {
      logger.warn({ err: original, path: formatted.path }, 'a dependency is unavailable');
      const unavailable = dependencyUnavailable();
      return { ...base, message: unavailable.message, extensions: { ...unavailable.extensions } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error while serving a request');
    return { ...base, message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
