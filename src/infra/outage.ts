import { ConnectionException } from '@mikro-orm/core';

/** Node socket errors that mean "the other side is not there (now)". */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/**
 * PostgreSQL SQLSTATEs of a server that is away or refusing work for a while: class 08
 * (connection exception), 57P01–57P03 (shut down by an administrator, crash, cannot connect now),
 * 53300 (too many connections).
 */
const POSTGRES_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;

/** Messages of drivers that do not set a code for a lost or unobtainable connection. */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/i, // pg
  /Client has encountered a connection error and is not queryable/i, // pg
  /Timeout acquiring a connection/i, // knex: the pool could not get a connection in time
  /^Connection is closed\.?$/i, // ioredis
  /Stream isn't writeable/i, // ioredis
  /Reached the max retries per request limit/i, // ioredis MaxRetriesPerRequestError
];

const UNAVAILABLE_NAMES = new Set(['KnexTimeoutError', 'MaxRetriesPerRequestError', 'BreakerOpenError', 'BreakerTimeoutError']);

function causesOf(error: object): unknown[] {
  const e = error as { cause?: unknown; originalError?: unknown; errors?: unknown };
  return [e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : [])];
}

/**
 * Whether an error means a dependency (PostgreSQL, Redis) is unavailable rather than that the
 * gateway has a bug: such errors answer SERVICE_UNAVAILABLE (retryable), never
 * INTERNAL_SERVER_ERROR. Looks through `cause`, `originalError` and aggregated errors.
 */
export function isDependencyOutage(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  if (error instanceof ConnectionException) return true;
  const e = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || POSTGRES_UNAVAILABLE.test(e.code))) return true;
  if (typeof e.name === 'string' && UNAVAILABLE_NAMES.has(e.name)) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(e.message as string))) return true;
  return causesOf(error).some((cause) => isDependencyOutage(cause, depth + 1));
}
