import { createHash } from 'node:crypto';
import pino, { type DestinationStream, type Logger } from 'pino';
import { activeTraceIds } from './tracing';
import { normalizeStatement } from './slow-statements';

export type { Logger } from 'pino';

/**
 * Paths whose values never reach a log line, for objects that are no GraphQL input (request
 * headers, and values logged under a credential's name). GraphQL variables are redacted by meaning
 * before they are logged (`redactVariables`, from the `@sensitive` marks of the schema).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'password',
  'token',
  'refreshToken',
  'accessToken',
  'secret',
  '*.authorization',
  '*.password',
  '*.token',
  '*.refreshToken',
  '*.accessToken',
  '*.secret',
];

const REDACTED = '[redacted]';

/** Own properties of a PostgreSQL error (as MikroORM's DriverException copies them) that hold no values. */
interface DatabaseErrorLike extends Error {
  code?: unknown;
  sqlState?: unknown;
  constraint?: unknown;
  table?: unknown;
  column?: unknown;
  schema?: unknown;
  routine?: unknown;
  severity?: unknown;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

function isDatabaseError(error: unknown): error is DatabaseErrorLike {
  if (!(error instanceof Error)) return false;
  const e = error as DatabaseErrorLike;
  return (typeof e.code === 'string' && SQLSTATE.test(e.code) && (e.routine !== undefined || e.severity !== undefined)) || e.sqlState !== undefined;
}

/**
 * A statement's id: a hash of its text with every literal taken out (MikroORM inlines values into
 * the statement, and the driver's message starts with it), so the same statement always has the
 * same id and the id says nothing about the values.
 */
function statementId(message: string): string | undefined {
  const end = message.lastIndexOf(' - ', message.includes('\n - detail:') ? message.indexOf('\n - detail:') : message.length);
  if (end <= 0) return undefined;
  return createHash('sha256').update(normalizeStatement(message.slice(0, end))).digest('hex').slice(0, 16);
}

/**
 * How errors are logged. A database error (MikroORM's DriverException, or the driver's own) is
 * logged by class, SQLSTATE, constraint, table and column names and a statement id, never with its
 * message, detail or stack: they carry the statement with every value inlined and the offending
 * values (`Key (email)=(…) already exists`), and the stack repeats the message (a value can even
 * look like a stack frame). Anything else as pino logs errors, with
 * its cause logged the same way.
 */
export function serializeError(error: unknown, depth = 0): unknown {
  if (isDatabaseError(error)) {
    return {
      type: error.name,
      sqlState: typeof error.code === 'string' ? error.code : error.sqlState,
      constraint: error.constraint,
      table: error.table,
      column: error.column,
      statementId: statementId(error.message),
    };
  }
  if (!(error instanceof Error)) return error;
  const serialized = pino.stdSerializers.err(error) as Record<string, unknown>;
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && depth < 5) {
    serialized.cause = serializeError(cause, depth + 1);
    // pino folds the causes' messages and stacks into the outer ones; a database cause must not.
    if (isDatabaseError(cause)) {
      serialized.message = error.message;
      serialized.stack = error.stack;
    }
  }
  return serialized;
}

/**
 * A line's own fields with a caller's `level` moved to `payloadLevel`: pino writes its level first,
 * and a second `level` key would win in most JSON parsers, so level filters would misread the line.
 */
export function withoutLevelKey(fields: Record<string, unknown>): Record<string, unknown> {
  if (!Object.prototype.hasOwnProperty.call(fields, 'level')) return fields;
  const { level, ...rest } = fields;
  return { ...rest, payloadLevel: level };
}

/**
 * Creates the process logger: JSON lines with exactly one `level` key, credentials redacted,
 * database errors without values.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'vigil' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      serializers: { err: serializeError, error: serializeError },
      formatters: { level: (label) => ({ level: label }), log: withoutLevelKey },
      // While tracing, every line written inside a span names it.
      mixin: () => {
        const ids = activeTraceIds();
        return ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
      },
    },
    destination,
  );
}
