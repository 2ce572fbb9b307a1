import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths whose values never reach a log line: credentials, tokens and personal data.
 * Keys are matched at any of the listed depths.
 */
export const REDACTED_PATHS = [
  'password',
  'newPassword',
  'currentPassword',
  'otp',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'authorization',
  'subjectEmail',
  'subjectIp',
  'subjectName',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'variables.password',
  'variables.otp',
  'variables.refreshToken',
  'variables.input.password',
  'variables.input.subjectEmail',
  'variables.input.subjectIp',
  'variables.input.subjectName',
  '*.password',
  '*.otp',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.secret',
  '*.authorization',
  '*.subjectEmail',
  '*.subjectIp',
  '*.subjectName',
  '*.newPassword',
  '*.currentPassword',
  '*.cookie',
  '*.*.password',
  '*.*.otp',
  '*.*.token',
  '*.*.refreshToken',
  '*.*.subjectEmail',
  '*.*.subjectIp',
  '*.*.subjectName',
];

/**
 * Keys whose values {@link redactSecrets} replaces at any depth (pino's own paths stop at a fixed
 * depth; GraphQL variables nest as deep as the client likes).
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'password',
  'newpassword',
  'currentpassword',
  'otp',
  'token',
  'accesstoken',
  'refreshtoken',
  'secret',
  'authorization',
  'cookie',
  'otpauthuri',
  'subjectemail',
  'subjectip',
  'subjectname',
]);

const REDACTED = '[redacted]';

/** A copy of `value` with every {@link SECRET_KEYS} entry replaced, at any depth (case-insensitive). */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 20) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redactSecrets(v, depth + 1)]),
    );
  }
  return value;
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
 * Creates the process logger: JSON lines with exactly one `level` key, secrets and personal data
 * redacted.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'vigil' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      formatters: { level: (label) => ({ level: label }), log: withoutLevelKey },
    },
    destination,
  );
}
